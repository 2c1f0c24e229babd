package org.moe4j.train;

import java.io.IOException;
import java.io.PrintStream;
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
 * {@code checkpoint.safetensors} (or, for a sharded run, {@code checkpoint.json} and its directory),
 * and {@code train.lock} while a trainer uses it ({@link RunLock}). New runs go to
 * {@code runs/<date-time>} unless given a path. Nothing is created on disk until a trainer claims
 * the directory ({@link #claim}), so a run that fails to start leaves nothing behind.
 */
public record RunDirectory(Path path) {

    /** Where runs go by default, relative to the working directory. */
    public static final Path RUNS = Path.of("runs");
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    /** A directory under {@code root} named for the current time, that does not exist yet. */
    public static RunDirectory create(Path root) {
        Path dir = root.resolve(LocalDateTime.now().format(NAME));
        for (int i = 2; Files.exists(dir); i++) {
            dir = root.resolve(LocalDateTime.now().format(NAME) + "-" + i);
        }
        return new RunDirectory(dir);
    }

    /** The run directory {@code path}; it is created when a trainer claims it. */
    public static RunDirectory at(Path path) {
        return new RunDirectory(path);
    }

    /**
     * Creates the directory if needed and takes its lock, for as long as a trainer uses it.
     *
     * @param console where a warning about a stale lock goes
     * @throws IllegalArgumentException when another trainer holds the directory
     */
    public RunLock claim(PrintStream console) throws IOException {
        Files.createDirectories(path);
        return RunLock.acquire(path, console);
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
