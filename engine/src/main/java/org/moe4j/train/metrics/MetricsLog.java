package org.moe4j.train.metrics;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.moe4j.train.checkpoint.AtomicFiles;

/**
 * Appends metrics as JSON lines to {@value #FILE_NAME} in a run directory: one object per call,
 * keys in the order given ({@code step}, {@code loss}, {@code lr}, {@code tokens_per_s},
 * {@code grad_norm}, {@code eval_loss}, ...). Each line is flushed at once so a crashed or killed
 * run keeps everything it logged, and {@code tail -f} or pandas' {@code read_json(lines=True)}
 * see it live. Non-finite numbers are written as {@code NaN} / {@code Infinity}, which Python's
 * {@code json} reads, because a diverged loss is exactly what the log must show.
 */
public final class MetricsLog implements Closeable {

    /** The file name inside the run directory. */
    public static final String FILE_NAME = "metrics.jsonl";

    private static final Gson GSON = new GsonBuilder()
            .serializeSpecialFloatingPointValues()
            .serializeNulls()
            .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE) // step reads back as a Long
            .create();

    private final Path file;
    private final BufferedWriter out;

    /**
     * Opens (creating the directory if needed) {@code runDir/metrics.jsonl} for appending, so a
     * resumed run continues the same file.
     */
    public MetricsLog(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        this.file = runDir.resolve(FILE_NAME);
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** The file written to. */
    public Path file() {
        return file;
    }

    /**
     * Writes {@code record} as one JSON line and flushes it. Values may be numbers, strings,
     * booleans, null, lists, arrays and maps of these.
     *
     * @param record not modified
     */
    public synchronized void log(Map<String, ?> record) throws IOException {
        out.write(GSON.toJson(record));
        out.write('\n');
        out.flush();
    }

    /**
     * Cuts a metrics file back to the records of steps up to {@code step}, atomically: what a run
     * resumed from the checkpoint of that step is about to log again. A torn last line goes too.
     */
    public static void keepUpToStep(Path file, int step) throws IOException {
        StringBuilder kept = new StringBuilder();
        String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            Map<String, Object> record = lines[i].isBlank() ? null
                    : GSON.fromJson(lines[i], new TypeToken<Map<String, Object>>() { }.getType());
            if (record != null && record.get("step") instanceof Number n && n.longValue() <= step) {
                kept.append(lines[i]).append('\n');
            }
        }
        byte[] bytes = kept.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.writeStream(file, out -> out.write(bytes));
    }

    /** Gson's lenient reader hands bare NaN/Infinity over as strings; they were numbers when written. */
    private static Object special(String s) {
        return switch (s) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> s;
        };
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    /**
     * All records of a metrics file (or of {@code dir/metrics.jsonl} when given a directory), in
     * order. Integers read back as {@code Long}, other numbers as {@code Double}, and top-level
     * {@code NaN} / {@code Infinity} / {@code -Infinity} as those doubles. A last line
     * without its newline is skipped: it is what a run killed mid-write leaves.
     *
     * @throws IOException if a complete line is not a JSON object; the message gives the line number
     */
    public static List<Map<String, Object>> read(Path fileOrRunDir) throws IOException {
        Path f = Files.isDirectory(fileOrRunDir) ? fileOrRunDir.resolve(FILE_NAME) : fileOrRunDir;
        String text = Files.readString(f, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1); // the last element is "" or a torn line
        List<Map<String, Object>> records = new ArrayList<>();
        for (int i = 0; i < lines.length - 1; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            try {
                Map<String, Object> m = GSON.fromJson(lines[i], new TypeToken<Map<String, Object>>() { }.getType());
                if (m == null) {
                    throw new JsonParseException("not an object");
                }
                m.replaceAll((k, v) -> v instanceof String str ? special(str) : v);
                records.add(m);
            } catch (JsonParseException e) {
                throw new IOException(f + ": line " + (i + 1) + " is not a JSON object: " + e.getMessage(), e);
            }
        }
        return records;
    }
}
