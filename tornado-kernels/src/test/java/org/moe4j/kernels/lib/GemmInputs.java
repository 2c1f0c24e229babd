package org.moe4j.kernels.lib;

import java.util.Arrays;
import java.util.Random;

/** Inputs and widening for the GEMM tests: seeded uniform matrices, NaN-filled outputs. */
final class GemmInputs {
    private GemmInputs() {
    }

    /** Values drawn uniformly from {@code [-1, 1)}. */
    static float[] uniform(int length, Random random) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        return x;
    }

    /** An output that a {@code beta = 0} product must overwrite without reading. */
    static float[] nans(int length) {
        float[] x = new float[length];
        Arrays.fill(x, Float.NaN);
        return x;
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
