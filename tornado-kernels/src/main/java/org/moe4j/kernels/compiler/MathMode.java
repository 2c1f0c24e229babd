package org.moe4j.kernels.compiler;

/**
 * How the compiler treats double-precision math whose result a kernel rounds to float, as in
 * {@code (float) Math.exp(x)} with a float {@code x}. On PTX, {@code exp}, {@code log},
 * {@code tanh} and {@code pow} themselves are computed in double in both modes ({@link DeviceMath});
 * the mode decides the arithmetic around them.
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
    STRICT;

    /**
     * The mode the system property {@code property} names ({@code relaxed} or {@code strict}),
     * {@link #RELAXED} when it is not set.
     */
    public static MathMode fromProperty(String property) {
        String value = System.getProperty(property, "relaxed");
        return switch (value) {
            case "relaxed" -> RELAXED;
            case "strict" -> STRICT;
            default -> throw new IllegalArgumentException(property + "=" + value + " is not allowed: relaxed or strict");
        };
    }
}
