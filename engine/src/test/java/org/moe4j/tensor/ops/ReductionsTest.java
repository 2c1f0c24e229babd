package org.moe4j.tensor.ops;

import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;

class ReductionsTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void sumOfSquaresOverSeveralArraysMatchesDouble() {
        float[][] arrays = {
            RandomTensors.gaussian(DEVICE, 1, 1f, 5).data(),
            new float[0],
            RandomTensors.gaussian(DEVICE, 2, 1f, 300).data(),
            RandomTensors.gaussian(DEVICE, 3, 1f, 1001).data(),
        };
        double reference = 0;
        for (float[] x : arrays) {
            for (float v : x) {
                reference += (double) v * v;
            }
        }
        double result = Reductions.sumOfSquares(DEVICE, arrays);
        assertClose("sum of squares", new double[] {reference}, new float[] {(float) result}, 0, 1e-5);
    }

    @Test
    void sumMatchesDouble() {
        float[] x = RandomTensors.gaussian(DEVICE, 4, 1f, 777).data();
        double reference = 0;
        double abs = 0;
        for (float v : x) {
            reference += v;
            abs += Math.abs(v);
        }
        double result = Reductions.sum(DEVICE, x);
        assertClose("sum", new double[] {reference}, new float[] {(float) result}, 1e-6 * abs, 0);
    }
}
