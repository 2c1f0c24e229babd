package org.moe4j.kernels.compiler;

import java.util.Map;
import java.util.TreeMap;

/**
 * The GPU architecture PTX is printed for, and the PTX ISA version that architecture needs. The
 * default {@code sm_70} (Volta) is the oldest the CUDA device supports: the driver JIT-compiles
 * such PTX for V100, A100, H100 and H200 alike. The system property {@value #PROPERTY} raises it.
 *
 * @param name       {@code sm_70}, {@code sm_80}, ...
 * @param isaVersion the {@code .version} of the module ({@code 7.0})
 */
public record PtxTarget(String name, String isaVersion) {
    /** System property naming the target ({@code sm_80}); {@value #DEFAULT} when unset. */
    public static final String PROPERTY = "moe4j.cuda.target";
    public static final String DEFAULT = "sm_70";

    /** The lowest PTX ISA version of each architecture, and never below 7.0. */
    private static final Map<String, String> ISA = new TreeMap<>(Map.of(
            "sm_70", "7.0", "sm_72", "7.0", "sm_75", "7.0", "sm_80", "7.0", "sm_86", "7.1", "sm_87", "7.4",
            "sm_89", "7.8", "sm_90", "7.8", "sm_100", "8.6", "sm_120", "8.7"));

    /** The target {@code name}, e.g. {@code sm_80}. */
    public static PtxTarget of(String name) {
        String version = ISA.get(name);
        if (version == null) {
            throw new IllegalArgumentException(PROPERTY + "=" + name + " is not a known target: allowed are " + ISA.keySet());
        }
        return new PtxTarget(name, version);
    }

    /** The target of {@value #PROPERTY}, {@value #DEFAULT} when it is not set. */
    public static PtxTarget configured() {
        return of(System.getProperty(PROPERTY, DEFAULT));
    }
}
