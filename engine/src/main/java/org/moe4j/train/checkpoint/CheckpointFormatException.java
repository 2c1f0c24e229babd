package org.moe4j.train.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that is not a well-formed (moe4j) safetensors file: truncated, corrupted, malformed
 * header, inconsistent offsets, unsupported dtype, or the wrong format version. The message names
 * the file, what is wrong and, where there is one, what to do about it.
 */
public final class CheckpointFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** {@code file} is the offending file; {@code problem} says what is wrong with it. */
    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** As {@link #CheckpointFormatException(Path, String)}, keeping the low-level cause. */
    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that was refused. */
    public Path file() {
        return file;
    }
}
