package org.moe4j.moe;

/**
 * bfloat16, the upper 16 bits of an IEEE float (sign, 8 exponent bits, 7 mantissa bits), as the
 * token all-to-alls send it with {@code parallel.comm_dtype=bf16}. Rounding is to nearest, ties to
 * even, so a finite value's relative error is at most 2^-8 (0.39%); the range is float's, so
 * nothing overflows that float holds below 3.39e38 (larger values round to infinity), infinities
 * stay infinite and NaN stays NaN.
 */
public final class BFloat16 {
    private BFloat16() {
    }

    /** {@code x} rounded to the nearest bfloat16, ties to even. */
    public static short round(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** The float a bfloat16 stands for, exactly. */
    public static float widen(short b) {
        return Float.intBitsToFloat(b << 16);
    }

    /**
     * @param from not modified
     * @return every value of {@code from} rounded
     */
    public static short[] round(float[] from) {
        short[] to = new short[from.length];
        for (int i = 0; i < from.length; i++) {
            to[i] = round(from[i]);
        }
        return to;
    }

    /**
     * Widens all of {@code from} into {@code to}.
     *
     * @param from not modified
     * @param to   modified; at least as long as {@code from}
     */
    public static void widen(short[] from, float[] to) {
        for (int i = 0; i < from.length; i++) {
            to[i] = widen(from[i]);
        }
    }
}
