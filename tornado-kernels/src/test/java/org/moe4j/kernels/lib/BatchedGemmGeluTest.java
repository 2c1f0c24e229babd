package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.moe4j.kernels.lib.GemmInputs.nans;
import static org.moe4j.kernels.lib.GemmInputs.toDouble;
import static org.moe4j.kernels.lib.GemmInputs.uniform;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.testing.Close;

/**
 * The GELU fused into the batched GEMMs against the unfused kernels run one after another: bit for
 * bit where the order of operations is the same (the portable kernels; the overrides where both
 * take the vector GELU everywhere), and the overrides against the portable kernels within
 * {@code |x - r| <= 1e-6·k + 1e-4·|r|} (FMA chains against separate roundings, the vector tanh
 * against {@code Math.tanh}), at widths with a scalar tail too.
 */
class BatchedGemmGeluTest {

    /** (batch, m, n, k). */
    private static final int[][] PORTABLE_SHAPES = {{1, 1, 1, 1}, {3, 17, 33, 29}, {2, 5, 18, 40}};

    /**
     * n a multiple of 16, so that both sides take the vector GELU for every element: edge blocks of C
     * in rows and columns, a product split over the threads, k longer than one slice.
     */
    private static final int[][] SIMD_SHAPES = {{2, 13, 48, 24}, {1, 70, 96, 64}, {2, 13, 48, 1030}};

    @Test
    void portableFusedKernelsEqualTheUnfusedOnesBitForBit() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            Random random = new Random(31);
            for (int[] shape : PORTABLE_SHAPES) {
                assertFusedEqualsUnfused(new Problem(shape, random), device, device);
            }
        }
    }

    @Test
    void simdFusedKernelsEqualTheUnfusedOverridesBitForBit() {
        // The unfused side on one thread: its GELU overrides then run one range, whole vectors throughout
        // (batch·m·n is a multiple of 16 too).
        try (JvmDevice one = simd(1); JvmDevice two = simd(2)) {
            Random random = new Random(32);
            for (int[] shape : SIMD_SHAPES) {
                assertFusedEqualsUnfused(new Problem(shape, random), two, one);
            }
        }
    }

    /** Unused capacity slots: trailing zero rows of x and dout, which the override does not multiply. */
    @Test
    void simdFusedKernelsGiveTheTrailingZeroRowsTheirEpilogue() {
        try (JvmDevice one = simd(1); JvmDevice two = simd(2)) {
            Problem p = new Problem(new int[] {3, 16, 48, 24}, new Random(33));
            int[] used = {16, 5, 0};
            for (int e = 0; e < p.batch(); e++) {
                Arrays.fill(p.x(), (e * p.m() + used[e]) * p.k(), (e + 1) * p.m() * p.k(), 0f);
                Arrays.fill(p.dout(), (e * p.m() + used[e]) * p.k(), (e + 1) * p.m() * p.k(), 0f);
            }
            assertFusedEqualsUnfused(p, two, one);
        }
    }

    @Test
    void simdFusedKernelsMatchThePortableOnes() {
        try (JvmDevice portable = new JvmDevice(2, true); JvmDevice simd = simd(2)) {
            Random random = new Random(34);
            for (int[] shape : new int[][] {{3, 17, 33, 29}, {2, 13, 70, 40}}) {
                Problem p = new Problem(shape, random);
                Output expected = p.fused(portable);
                Output actual = p.fused(simd);
                assertClose(p + " pre", p, actual.pre(), expected.pre());
                assertClose(p + " h", p, actual.h(), expected.h());
                assertClose(p + " dpre", p, actual.dpre(), expected.dpre());
            }
        }
    }

    private static JvmDevice simd(int threads) {
        JvmDevice device = new JvmDevice(threads, false);
        GemmSimd.registerOn(device);
        MoeSimd.registerOn(device);
        ElementwiseSimd.registerOn(device);
        return device;
    }

    /**
     * The fused kernels on {@code fusedOn} against the unfused ones on {@code unfusedOn}, bit for bit;
     * the unfused gradient is accumulated into zeros, so the fused one gets {@code + 0} too (which
     * turns -0 into +0 and changes nothing else).
     */
    private static void assertFusedEqualsUnfused(Problem p, Device fusedOn, Device unfusedOn) {
        Output fused = p.fused(fusedOn);
        Output unfused = p.unfused(unfusedOn);
        assertArrayEquals(unfused.pre(), fused.pre(), p + " pre");
        assertArrayEquals(unfused.h(), fused.h(), p + " h");
        assertArrayEquals(unfused.dpre(), plusZero(fused.dpre()), p + " dpre");
    }

    /** {@code x + 0}. */
    private static float[] plusZero(float[] x) {
        float[] y = x.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] += 0f;
        }
        return y;
    }

    private static void assertClose(String what, Problem p, float[] actual, float[] expected) {
        Close.assertClose(what, toDouble(expected), actual, 1e-6 * Math.max(1, p.k()), 1e-4);
    }

    private record Output(float[] pre, float[] h, float[] dpre) {
    }

    /**
     * The first layer (batch, m, k)·(batch, k, n) + bias (batch, n) and the input gradient of the
     * layer after it, dout (batch, m, k)·w (batch, n, k)ᵀ, at the pre-activation of the first.
     */
    private record Problem(int batch, int m, int n, int k, float[] x, float[] w1, float[] bias, float[] dout,
                           float[] w2) {

        Problem(int[] s, Random random) {
            this(s[0], s[1], s[2], s[3], uniform(s[0] * s[1] * s[3], random), uniform(s[0] * s[3] * s[2], random),
                    uniform(s[0] * s[2], random), uniform(s[0] * s[1] * s[3], random), uniform(s[0] * s[2] * s[3], random));
        }

        Output fused(Device device) {
            var grid = BatchedGemm.grid(batch, m, n);
            float[] pre = nans(batch * m * n);
            float[] h = nans(batch * m * n);
            device.launch(grid, BatchedGemm::matmulBiasGelu, pre, h, x, w1, bias, batch, m, n, k);
            float[] dpre = nans(batch * m * n);
            device.launch(grid, BatchedGemm::matmulTransBGeluBackward, dpre, dout, w2, pre, batch, m, n, k);
            return new Output(pre, h, dpre);
        }

        Output unfused(Device device) {
            var grid = BatchedGemm.grid(batch, m, n);
            int size = batch * m * n;
            float[] pre = nans(size);
            device.launch(grid, BatchedGemm::matmul, pre, x, w1, batch, m, n, k, 0f);
            device.launch(Bias.gridBatched(batch, m, n), Bias::addBiasBatched, pre, bias, batch, m, n);
            float[] h = nans(size);
            device.launch(Activation.grid(size), Activation::geluForward, h, pre, size);
            float[] dh = nans(size);
            device.launch(grid, BatchedGemm::matmulTransB, dh, dout, w2, batch, m, n, k, 0f);
            float[] dpre = new float[size];
            device.launch(Activation.grid(size), Activation::geluBackward, dpre, pre, dh, size);
            return new Output(pre, h, dpre);
        }

        @Override
        public String toString() {
            return "batch=" + batch + " m=" + m + " n=" + n + " k=" + k;
        }
    }
}
