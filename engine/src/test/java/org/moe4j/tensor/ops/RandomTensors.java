package org.moe4j.tensor.ops;

import org.moe4j.random.SplitMix64;
import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tensor;

/** Seeded random inputs for the op tests. */
final class RandomTensors {
    private RandomTensors() {
    }

    /** Values drawn uniformly from {@code [lo, hi)}. */
    static Tensor uniform(Device device, long seed, float lo, float hi, int... shape) {
        SplitMix64 random = new SplitMix64(seed);
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = lo + (hi - lo) * random.nextFloat();
        }
        return Tensor.of(device, true, values, shape);
    }

    /** Standard normal values times {@code scale}. */
    static Tensor gaussian(Device device, long seed, float scale, int... shape) {
        SplitMix64 random = new SplitMix64(seed);
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return Tensor.of(device, true, values, shape);
    }

    /** Widens to double, for references. */
    static double[] doubles(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }
}
