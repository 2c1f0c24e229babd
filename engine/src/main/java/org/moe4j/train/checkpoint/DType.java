package org.moe4j.train.checkpoint;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Element types moe4j reads and writes, with their safetensors names and Java array types:
 * {@code F32} float[], {@code F64} double[], {@code I32} int[], {@code I64} long[], {@code U8}
 * byte[]. Data is always little-endian, as safetensors requires.
 */
public enum DType {
    F32(4),
    F64(8),
    I32(4),
    I64(8),
    U8(1);

    /** Safetensors dtypes that exist but that moe4j does not read, so the error can say so. */
    private static final Set<String> KNOWN_UNSUPPORTED =
            Set.of("BOOL", "I8", "I16", "U16", "U32", "U64", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0",
                    "F4", "F6_E2M3", "F6_E3M2", "C64");

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype named {@code name} in a safetensors header, or a message saying what is allowed. */
    static DType parse(String name) throws IllegalArgumentException {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        List<String> supported = Arrays.stream(values()).map(Enum::name).toList();
        if (KNOWN_UNSUPPORTED.contains(name)) {
            throw new IllegalArgumentException("dtype " + name + " is not supported by moe4j (supported: "
                    + supported + ")");
        }
        throw new IllegalArgumentException("unknown dtype \"" + name + "\" (supported: " + supported + ")");
    }
}
