package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;

/** The Vector-API overrides of the MoE kernels give the portable kernels' bits. */
class MoeSimdTest {
    /** Top-2 over E=5 experts, capacity 150, N=301 tokens, D=131 (not a multiple of any vector width; large enough to split over threads). */
    private static final int N = 301;
    private static final int E = 5;
    private static final int J = 2;
    private static final int C = 150;
    private static final int D = 131;

    @Test
    void overridesMatchPortableKernelsBitForBit() {
        Random random = new Random(5);
        float[] probs = new float[N * E];
        for (int i = 0; i < probs.length; i++) {
            probs[i] = random.nextFloat();
        }
        try (JvmDevice portable = new JvmDevice(2, true); JvmDevice simd = new JvmDevice(2, false)) {
            MoeSimd.registerOn(simd);
            float[] x = uniform(N * D, random);
            float[] weights = uniform(N * J, random);
            float[] out = uniform(E * C * D, random);
            float[] dy = uniform(N * D, random);
            float[] bias = uniform(E * D, random);
            float[][] a = run(portable, probs, x, weights, out, dy, bias);
            float[][] b = run(simd, probs, x, weights, out, dy, bias);
            for (int i = 0; i < a.length; i++) {
                assertArrayEquals(a[i], b[i], "result " + i);
            }
        }
    }

    private static float[][] run(Device device, float[] probs, float[] x, float[] weights, float[] out, float[] dy,
                                 float[] bias) {
        int[] choice = new int[N * J];
        int[] slot = new int[N * J];
        device.launch(Router.gridTokens(N), Router::topK, choice, probs, N, E, 1, J);
        device.launch(Router.gridExperts(E), Router::assignCapacity, slot, new int[E], new int[E], choice, new int[J * E],
                new int[E], N, E, J, C);
        int[] slotAssign = new int[E * C];
        device.launch(Dispatch.grid(E * C), Dispatch::fillInts, slotAssign, -1, E * C);
        device.launch(Dispatch.grid(N * J), Dispatch::invertSlots, slotAssign, choice, slot, N, J, C);
        float[] buf = new float[E * C * D];
        java.util.Arrays.fill(buf, Float.NaN);
        device.launch(Dispatch.grid(E * C * D), Dispatch::dispatch, buf, x, slotAssign, E * C, J, D);
        float[] dx = x.clone();
        device.launch(Dispatch.grid(N * D), Dispatch::dispatchBackward, dx, out, choice, slot, N, J, C, D);
        float[] y = new float[N * D];
        device.launch(Dispatch.grid(N * D), Dispatch::combine, y, out, weights, choice, slot, N, J, C, D);
        float[] dout = out.clone();
        device.launch(Dispatch.grid(E * C * D), Dispatch::combineBackwardOutput, dout, dy, weights, slotAssign, E * C,
                J, D);
        float[] biased = out.clone();
        device.launch(Bias.gridBatched(E, C, D), Bias::addBiasBatched, biased, bias, E, C, D);
        return new float[][] {buf, dx, y, dout, biased};
    }

    private static float[] uniform(int n, Random random) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 2 - 1;
        }
        return a;
    }
}
