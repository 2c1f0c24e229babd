package org.moe4j.train.checkpoint;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file as read by {@link Safetensors#read(Path)}: its tensors in file order and its
 * {@code __metadata__} strings (including the {@code moe4j.*} keys written by moe4j).
 *
 * @param path     the file it was read from, for error messages
 * @param tensors  name to tensor, unmodifiable, in the order of their data in the file
 * @param metadata the {@code __metadata__} object, unmodifiable, empty when the file has none
 */
public record SafetensorsFile(Path path, Map<String, TensorEntry> tensors, Map<String, String> metadata) {

    public SafetensorsFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * The tensor called {@code name}.
     *
     * @throws CheckpointFormatException if there is none; the message lists what the file holds
     */
    public TensorEntry tensor(String name) throws CheckpointFormatException {
        TensorEntry t = tensors.get(name);
        if (t == null) {
            throw new CheckpointFormatException(path, "has no tensor \"" + name + "\"; it holds " + tensors.keySet());
        }
        return t;
    }
}
