package org.moe4j.train.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The metadata that makes a safetensors file a moe4j checkpoint: {@value #FORMAT_KEY} =
 * {@value #FORMAT}, {@value #VERSION_KEY} = {@value #VERSION}, and the data checksum
 * {@value #CRC_KEY} that {@link Safetensors#write} adds. The version changes whenever the set or
 * meaning of the tensors in a checkpoint changes, so an old checkpoint is refused with a message
 * instead of being loaded into the wrong places.
 */
public final class CheckpointFormat {

    /** Metadata key naming the format. */
    public static final String FORMAT_KEY = "moe4j.format";
    /** The value of {@link #FORMAT_KEY} in a moe4j checkpoint. */
    public static final String FORMAT = "moe4j-checkpoint";
    /** Metadata key of the checkpoint layout version. */
    public static final String VERSION_KEY = "moe4j.version";
    /** The layout version this build writes and reads. */
    public static final String VERSION = "1";
    /** Metadata key of the CRC-32 of the data section, 8 lowercase hex digits. */
    public static final String CRC_KEY = "moe4j.crc32";

    private CheckpointFormat() {
    }

    /**
     * {@code metadata} plus the format and version markers, ready for {@link Safetensors#write}.
     *
     * @param metadata the caller's pairs; not modified
     * @throws IllegalArgumentException if it already sets a marker to a different value
     */
    public static Map<String, String> stamp(Map<String, String> metadata) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(FORMAT_KEY, FORMAT);
        out.put(VERSION_KEY, VERSION);
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            String mine = out.get(e.getKey());
            if (mine != null && !mine.equals(e.getValue())) {
                throw new IllegalArgumentException("metadata " + e.getKey() + "=" + e.getValue()
                        + " conflicts with the format marker " + mine);
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /**
     * Checks that {@code file} is a moe4j checkpoint of the version this build reads.
     *
     * @throws CheckpointFormatException naming what was found and how to proceed
     */
    public static void check(SafetensorsFile file) throws CheckpointFormatException {
        String format = file.metadata().get(FORMAT_KEY);
        if (!FORMAT.equals(format)) {
            throw new CheckpointFormatException(file.path(), "is not a moe4j checkpoint (metadata " + FORMAT_KEY + " is "
                    + (format == null ? "missing" : "\"" + format + "\"") + ", expected \"" + FORMAT
                    + "\"); pass a checkpoint written by moe4j train, or load plain weights another way");
        }
        String version = file.metadata().get(VERSION_KEY);
        if (!VERSION.equals(version)) {
            throw new CheckpointFormatException(file.path(), "is a moe4j checkpoint of version "
                    + (version == null ? "(missing)" : version) + ", but this build reads version " + VERSION
                    + "; resume it with the moe4j release that wrote it, or start a fresh run");
        }
    }
}
