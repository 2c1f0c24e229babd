package org.moe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.RunDirectory;

/** Turns the optional CHECKPOINT argument (a file, a run directory, or nothing) into a file. */
final class CheckpointArgument {
    private CheckpointArgument() {
    }

    /** The checkpoint to use: {@code given} if set (a file or a run directory), else the latest run's. */
    static Path resolve(Path given) {
        if (given == null) {
            return RunDirectory.latest(RunDirectory.RUNS)
                    .orElseThrow(() -> new IllegalArgumentException("no checkpoint given and no run with a checkpoint in "
                            + RunDirectory.RUNS.toAbsolutePath() + ": run './moe train' first"))
                    .checkpoint();
        }
        Path file = Files.isDirectory(given) ? given.resolve(Checkpoint.FILE_NAME) : given;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
        return file;
    }
}
