package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;
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
 * The batched products: portable kernels against a double-precision naive product per batch, the
 * Vector-API overrides against the portable kernels. Tolerance {@code |x - r| <= 1e-6·k + 1e-5·|r|}.
 */
class BatchedGemmTest {

    /** (batch, m, n, k): rows not a multiple of the tile, so work-groups of a batch are padded. */
    private static final int[][] SHAPES = {{1, 1, 1, 1}, {3, 17, 33, 5}, {2, 16, 16, 16}, {4, 7, 40, 19}, {2, 0, 5, 3}};

    enum Variant { NN, TRANS_B, TRANS_A }

    @Test
    void portableKernelsMatchNaiveReference() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            Random random = new Random(21);
            for (Variant variant : Variant.values()) {
                for (int[] shape : SHAPES) {
                    for (float beta : new float[] {0f, 1f}) {
                        Problem problem = new Problem(variant, shape, beta, random);
                        assertClose(variant + " portable", problem, problem.run(device), problem.reference());
                    }
                }
            }
        }
    }

    @Test
    void simdOverridesMatchPortableKernels() {
        try (JvmDevice portable = new JvmDevice(2, true); JvmDevice simd = new JvmDevice(2, false)) {
            GemmSimd.registerOn(simd);
            Random random = new Random(22);
            int[][] shapes = Arrays.copyOf(SHAPES, SHAPES.length + 1);
            shapes[SHAPES.length] = new int[] {3, 40, 48, 33};
            for (Variant variant : Variant.values()) {
                for (int[] shape : shapes) {
                    for (float beta : new float[] {0f, 1f}) {
                        Problem problem = new Problem(variant, shape, beta, random);
                        assertClose(variant + " simd vs portable", problem, problem.run(simd),
                                toDouble(problem.run(portable)));
                    }
                }
            }
        }
    }

    @Test
    void simdBatchedEqualsSimdPerMatrixBitForBit() {
        try (JvmDevice one = new JvmDevice(1, false); JvmDevice two = new JvmDevice(2, false)) {
            GemmSimd.registerOn(one);
            GemmSimd.registerOn(two);
            Problem problem = new Problem(Variant.NN, new int[] {3, 70, 96, 64}, 1f, new Random(23));
            assertArrayEquals(problem.run(one), problem.run(two), "1 vs 2 threads");
        }
    }

    /**
     * Expert buffers: each matrix's rows after its first {@code used[e]} are zero (A, and for Aᵀ also
     * B in the backward pass), which the override does not multiply. Same values as the portable
     * kernel, the zero rows included.
     */
    @Test
    void simdOverridesSkipTrailingZeroRowsWithTheSameResults() {
        try (JvmDevice portable = new JvmDevice(2, true); JvmDevice simd = new JvmDevice(2, false)) {
            GemmSimd.registerOn(simd);
            Random random = new Random(24);
            int batch = 4;
            int rows = 37;
            int[] used = {37, 20, 0, 1};
            for (Variant variant : Variant.values()) {
                for (float beta : new float[] {0f, 1f}) {
                    // m = rows for NN and TRANS_B (A is (rows, k)); k = rows for TRANS_A (A (rows, m), B (rows, n)).
                    int[] shape = variant == Variant.TRANS_A ? new int[] {batch, 24, 40, rows}
                            : new int[] {batch, rows, 40, 24};
                    Problem problem = new Problem(variant, shape, beta, random);
                    int aWidth = variant == Variant.TRANS_A ? problem.m() : problem.k();
                    for (int e = 0; e < batch; e++) {
                        int from = e * rows * aWidth + used[e] * aWidth;
                        Arrays.fill(problem.a(), from, (e + 1) * rows * aWidth, 0f);
                        if (variant == Variant.TRANS_A && e == 1) {
                            // B zero from an earlier row than A: the sum stops at the earlier of the two.
                            int n = problem.n();
                            Arrays.fill(problem.b(), e * rows * n + 11 * n, (e + 1) * rows * n, 0f);
                        }
                    }
                    float[] expected = problem.run(portable);
                    float[] actual = problem.run(simd);
                    assertClose(variant + " zero rows, simd vs portable", problem, actual, toDouble(expected));
                    for (int i = 0; i < expected.length; i++) {
                        if (expected[i] == 0f && actual[i] != 0f) {
                            fail(variant + " beta=" + beta + ": index " + i + " got " + actual[i] + ", expected 0");
                        }
                    }
                }
            }
        }
    }

    private record Problem(Variant variant, int batch, int m, int n, int k, float beta, float[] a, float[] b,
                           float[] c0) {

        Problem(Variant variant, int[] s, float beta, Random random) {
            this(variant, s[0], s[1], s[2], s[3], beta, uniform(s[0] * s[1] * s[3], random),
                    uniform(s[0] * s[3] * s[2], random),
                    beta == 0f ? nans(s[0] * s[1] * s[2]) : uniform(s[0] * s[1] * s[2], random));
        }

        float[] run(Device device) {
            float[] c = c0.clone();
            var grid = BatchedGemm.grid(batch, m, n);
            switch (variant) {
                case NN -> device.launch(grid, BatchedGemm::matmul, c, a, b, batch, m, n, k, beta);
                case TRANS_B -> device.launch(grid, BatchedGemm::matmulTransB, c, a, b, batch, m, n, k, beta);
                case TRANS_A -> device.launch(grid, BatchedGemm::matmulTransA, c, a, b, batch, m, n, k, beta);
            }
            return c;
        }

        double[] reference() {
            double[] r = new double[batch * m * n];
            for (int e = 0; e < batch; e++) {
                int ao = e * m * k;
                int bo = e * k * n;
                int co = e * m * n;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        for (int p = 0; p < k; p++) {
                            double av = variant == Variant.TRANS_A ? a[ao + p * m + i] : a[ao + i * k + p];
                            double bv = variant == Variant.TRANS_B ? b[bo + j * k + p] : b[bo + p * n + j];
                            sum += av * bv;
                        }
                        r[co + i * n + j] = sum + (beta == 0f ? 0 : beta * (double) c0[co + i * n + j]);
                    }
                }
            }
            return r;
        }
    }

    private static void assertClose(String what, Problem p, float[] actual, double[] expected) {
        Close.assertClose(what + " batch=" + p.batch() + " m=" + p.m() + " n=" + p.n() + " k=" + p.k() + " beta="
                + p.beta(), expected, actual, 1e-6 * Math.max(1, p.k()), 1e-5);
    }
}
