package org.moe4j.kernels.compiler;

/**
 * How the compiler treats double-precision math whose result a kernel rounds to float, as in
 * {@code (float) Math.exp(x)} with a float {@code x}.
 */
public enum MathMode {
    /**
     * Computed in float: {@code exp(x)} on the float. Fast, needs no fp64 support, and differs from
     * the JVM by the device's float error bound (a few ulps). The default.
     */
    RELAXED,
    /**
     * Computed in double as the bytecode says, then rounded: {@code (float) exp((double) x)}. Matches
     * the JVM to the device's double error bound; refused on devices without fp64.
     */
    STRICT
}
