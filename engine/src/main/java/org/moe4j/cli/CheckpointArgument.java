package org.moe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.moe4j.train.RunDirectory;

/** Turns the optional CHECKPOINT argument (a file, a sharded checkpoint's manifest, a run directory, or nothing) into a file. */
final class CheckpointArgument {
    private CheckpointArgument() {
    }

    /** The checkpoint to use: {@code given} if set (a file or a run directory), else the latest run's. */
    static Path resolve(Path given) {
        if (given == null) {
            return RunDirectory.latest(RunDirectory.RUNS)
                    .orElseThrow(() -> new IllegalArgumentException("no checkpoint given and no run with a checkpoint in "
                            + RunDirectory.RUNS.toAbsolutePath() + ": run './moe train' first"))
                    .latestCheckpoint();
        }
        Path file = Files.isDirectory(given) ? new RunDirectory(given).latestCheckpoint() : given;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
        return file;
    }
}
