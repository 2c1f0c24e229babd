package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;

/**
 * The elementwise and bias overrides give the portable kernels' bits, and the activations (vector
 * tanh and exp) agree within {@value #ACTIVATION_ULPS} ulps of the larger magnitude, on small and
 * split sizes.
 */
class ElementwiseSimdTest {
    /** Results 5 to 8 of {@link #run} are the activations. */
    private static final int FIRST_ACTIVATION = 5;
    private static final int LAST_ACTIVATION = 8;
    private static final double ACTIVATION_ULPS = 8;

    @Test
    void overridesMatchThePortableKernels() {
        try (JvmDevice portable = new JvmDevice(2, true); JvmDevice simd = new JvmDevice(2, false)) {
            ElementwiseSimd.registerOn(simd);
            for (int[] shape : new int[][] {{7, 3}, {3, 13_337}}) {
                Random random = new Random(shape[1]);
                int rows = shape[0];
                int o = shape[1];
                int n = rows * o;
                float[] a = uniform(n, random, 4f);
                float[] b = uniform(n, random, 4f);
                float[] bias = uniform(o, random, 1f);
                float[][] x = run(portable, a, b, bias, rows, o);
                float[][] y = run(simd, a, b, bias, rows, o);
                for (int i = 0; i < x.length; i++) {
                    if (i >= FIRST_ACTIVATION && i <= LAST_ACTIVATION) {
                        assertWithinUlps(x[i], y[i], "activation result " + i + " of shape " + rows + "x" + o);
                    } else {
                        assertArrayEquals(x[i], y[i], "result " + i + " of shape " + rows + "x" + o);
                    }
                }
            }
        }
    }

    private static float[][] run(Device device, float[] a, float[] b, float[] bias, int rows, int o) {
        int n = a.length;
        var grid = Elementwise.grid(n);
        float[] sum = new float[n];
        device.launch(grid, Elementwise::add, sum, a, b, n);
        float[] acc = a.clone();
        device.launch(grid, Elementwise::accumulate, acc, b, n);
        float[] scaled = a.clone();
        device.launch(grid, Elementwise::scale, scaled, 0.37f, n);
        float[] product = new float[n];
        device.launch(grid, Elementwise::multiply, product, a, b, n);
        float[] dproduct = b.clone();
        device.launch(grid, Elementwise::multiplyBackward, dproduct, a, b, n);
        float[] gelu = new float[n];
        device.launch(grid, Activation::geluForward, gelu, a, n);
        float[] dgelu = b.clone();
        device.launch(grid, Activation::geluBackward, dgelu, a, b, n);
        float[] silu = new float[n];
        device.launch(grid, Activation::siluForward, silu, a, n);
        float[] dsilu = b.clone();
        device.launch(grid, Activation::siluBackward, dsilu, a, b, n);
        float[] biased = a.clone();
        device.launch(Bias.grid(rows, o), Bias::addBias, biased, bias, rows, o);
        // A batch of `rows` matrices of one row... and of 1 matrix of `rows` rows.
        float[] dbias = new float[rows * o];
        device.launch(Bias.gridBackwardBatched(rows, o), Bias::biasBackwardBatched, dbias, a, rows, 1, o);
        float[] dbiasOne = bias.clone();
        device.launch(Bias.gridBackwardBatched(1, o), Bias::biasBackwardBatched, dbiasOne, a, 1, rows, o);
        // Fills the first n - 1 elements only: the last keeps its value.
        float[] filled = a.clone();
        device.launch(Elementwise.grid(n - 1), Elementwise::fill, filled, -0f, n - 1);
        return new float[][] {sum, acc, scaled, product, dproduct, gelu, dgelu, silu, dsilu, biased, dbias, dbiasOne,
            filled};
    }

    private static void assertWithinUlps(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            double allowed = ACTIVATION_ULPS * Math.ulp(Math.max(Math.abs(expected[i]), Math.abs(actual[i])));
            if (!(Math.abs(expected[i] - actual[i]) <= allowed)) {
                fail(what + ": element " + i + " is " + actual[i] + ", the portable kernel's " + expected[i]);
            }
        }
    }

    private static float[] uniform(int n, Random random, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (random.nextFloat() * 2 - 1) * scale;
        }
        return x;
    }
}
