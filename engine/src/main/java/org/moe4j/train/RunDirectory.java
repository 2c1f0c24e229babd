package org.moe4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A run's directory: {@code config.json}, {@code metrics.jsonl}, {@code loss.png} and
 * {@code checkpoint.safetensors} (or, for a sharded run, {@code checkpoint.json} and its directory). New runs go to {@code runs/<date-time>} unless given a path.
 */
public record RunDirectory(Path path) {

    /** Where runs go by default, relative to the working directory. */
    public static final Path RUNS = Path.of("runs");
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    /** A new directory under {@code root} named for the current time. */
    public static RunDirectory create(Path root) throws IOException {
        Path dir = root.resolve(LocalDateTime.now().format(NAME));
        for (int i = 2; Files.exists(dir); i++) {
            dir = root.resolve(LocalDateTime.now().format(NAME) + "-" + i);
        }
        Files.createDirectories(dir);
        return new RunDirectory(dir);
    }

    /** {@code path}, created if needed. */
    public static RunDirectory at(Path path) throws IOException {
        Files.createDirectories(path);
        return new RunDirectory(path);
    }

    /** The run under {@code root} whose checkpoint was written last. */
    public static Optional<RunDirectory> latest(Path root) {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> runs = Files.list(root)) {
            return runs.map(RunDirectory::new).filter(d -> Files.isRegularFile(d.latestCheckpoint()))
                    .max(Comparator.comparing(d -> modified(d.latestCheckpoint())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list runs in " + root, e);
        }
    }

    public Path checkpoint() {
        return path.resolve(Checkpoint.FILE_NAME);
    }

    /** The manifest of a sharded checkpoint ({@link ShardedCheckpoint}). */
    public Path manifest() {
        return path.resolve(ShardedCheckpoint.MANIFEST);
    }

    /**
     * The checkpoint to resume or evaluate: {@link #checkpoint()} or {@link #manifest()}, whichever
     * was written last (the first when neither exists).
     */
    public Path latestCheckpoint() {
        Path single = checkpoint();
        Path sharded = manifest();
        if (!Files.isRegularFile(sharded)) {
            return single;
        }
        if (!Files.isRegularFile(single)) {
            return sharded;
        }
        return modified(sharded).compareTo(modified(single)) > 0 ? sharded : single;
    }

    public Path metrics() {
        return path.resolve("metrics.jsonl");
    }

    public Path lossPlot() {
        return path.resolve("loss.png");
    }

    public void writeConfig(TrainConfig config) throws IOException {
        Files.writeString(path.resolve("config.json"), ConfigLoader.toJson(config) + "\n");
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
