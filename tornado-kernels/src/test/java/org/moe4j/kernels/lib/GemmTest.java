package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;
import static org.moe4j.kernels.lib.GemmInputs.nans;
import static org.moe4j.kernels.lib.GemmInputs.toDouble;
import static org.moe4j.kernels.lib.GemmInputs.uniform;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.testing.Close;

/**
 * The portable kernels against a double-precision naive product, and the Vector-API overrides
 * against the portable kernels. Tolerance: {@code |x - r| <= ATOL_PER_K·k + RTOL·|r|}.
 */
class GemmTest {

    private static final double ATOL_PER_K = 1e-6;
    private static final double RTOL = 1e-5;

    /** (m, n, k): not multiples of the tile (16) nor of any vector width, and one of each. */
    private static final int[][] SHAPES = {{1, 1, 1}, {17, 33, 5}, {64, 48, 80}, {70, 130, 37}, {6, 40, 1}};

    /** Larger shapes for the overrides alone: several k slices, tiles and tails. */
    private static final int[][] SIMD_SHAPES = {{131, 75, 300}, {13, 290, 520}, {300, 19, 64}};

    enum Variant { NN, TRANS_B, TRANS_A }

    @Test
    void portableKernelsMatchNaiveReference() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            Random random = new Random(11);
            for (Variant variant : Variant.values()) {
                for (int[] shape : SHAPES) {
                    for (float beta : new float[] {0f, 1f}) {
                        Problem problem = new Problem(variant, shape, beta, random);
                        float[] c = problem.run(device);
                        assertClose(variant + " portable", problem, c, problem.reference());
                    }
                }
            }
        }
    }

    @Test
    void simdOverridesMatchPortableKernels() {
        try (JvmDevice portable = new JvmDevice(2, true); JvmDevice simd = new JvmDevice(2, false)) {
            GemmSimd.registerOn(simd);
            Random random = new Random(12);
            for (Variant variant : Variant.values()) {
                for (int[] shape : SHAPES) {
                    for (float beta : new float[] {0f, 1f}) {
                        Problem problem = new Problem(variant, shape, beta, random);
                        assertClose(variant + " simd vs portable", problem, problem.run(simd), toDouble(problem.run(portable)));
                    }
                }
            }
        }
    }

    @Test
    void simdOverridesMatchNaiveReferenceOnLargerShapes() {
        try (JvmDevice simd = new JvmDevice(2, false)) {
            GemmSimd.registerOn(simd);
            Random random = new Random(13);
            for (Variant variant : Variant.values()) {
                for (int[] shape : SIMD_SHAPES) {
                    for (float beta : new float[] {0f, 1f}) {
                        Problem problem = new Problem(variant, shape, beta, random);
                        assertClose(variant + " simd", problem, problem.run(simd), problem.reference());
                    }
                }
            }
        }
    }

    @Test
    void simdResultsAreTheSameBitsOnAnyNumberOfThreads() {
        try (JvmDevice one = new JvmDevice(1, false); JvmDevice three = new JvmDevice(3, false)) {
            GemmSimd.registerOn(one);
            GemmSimd.registerOn(three);
            Random random = new Random(14);
            for (Variant variant : Variant.values()) {
                Problem problem = new Problem(variant, new int[] {131, 75, 300}, 1f, random);
                assertArrayEquals(problem.run(one), problem.run(three), variant + ": 1 vs 3 threads");
            }
        }
    }

    /**
     * Whatever the register block, the k slice, the A block and the threads, every element is one
     * FMA chain over p from beta·C: the same bits as that chain written out.
     */
    @Test
    void everyBlockingGivesTheBitsOfOneFmaChainPerElement() throws Exception {
        List<GemmBlocking> blockings = List.of(new GemmBlocking(4, 2, 16, 4), new GemmBlocking(4, 2, 1024, 128),
                new GemmBlocking(6, 4, 32, 12), new GemmBlocking(6, 4, 1024, 252), GemmSimd.MACHINE);
        Random random = new Random(15);
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            for (Variant variant : Variant.values()) {
                for (int[] shape : SIMD_SHAPES) {
                    for (float beta : new float[] {0f, 1f, 0.5f}) {
                        Problem problem = new Problem(variant, shape, beta, random);
                        float[] chain = problem.fmaChains();
                        for (GemmBlocking blocking : blockings) {
                            float[] c = problem.c0().clone();
                            pool.submit(() -> GemmSimd.run(blocking, problem.product(c))).get();
                            assertArrayEquals(chain, c, variant + " " + Arrays.toString(shape) + " beta " + beta + " " + blocking);
                            float[] serial = problem.c0().clone();
                            GemmSimd.run(blocking, problem.product(serial));
                            assertArrayEquals(chain, serial, "on the calling thread, " + blocking);
                        }
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void simdRejectsShortArraysAndAliasing() {
        float[] a = new float[6];
        float[] b = new float[6];
        float[] c = new float[4];
        assertThrows(IllegalArgumentException.class, () -> GemmSimd.matmul(c, a, b, 2, 3, 3, 0f));
        assertThrows(IllegalArgumentException.class, () -> GemmSimd.matmulTransB(a, a, b, 2, 3, 3, 0f));
        assertThrows(IllegalArgumentException.class, () -> GemmSimd.matmulTransA(c, a, b, -1, 2, 3, 0f));
    }

    /** One seeded product: inputs in [-1, 1), C filled with NaN when beta is 0 (it must not be read). */
    private record Problem(Variant variant, int m, int n, int k, float beta, float[] a, float[] b, float[] c0) {

        Problem(Variant variant, int[] shape, float beta, Random random) {
            this(variant, shape[0], shape[1], shape[2], beta, uniform(shape[0] * shape[2], random),
                    uniform(shape[2] * shape[1], random),
                    beta == 0f ? nans(shape[0] * shape[1]) : uniform(shape[0] * shape[1], random));
        }

        float[] run(Device device) {
            float[] c = c0.clone();
            Grid grid = Gemm.grid(m, n);
            switch (variant) {
                case NN -> device.launch(grid, Gemm::matmul, c, a, b, m, n, k, beta);
                case TRANS_B -> device.launch(grid, Gemm::matmulTransB, c, a, b, m, n, k, beta);
                case TRANS_A -> device.launch(grid, Gemm::matmulTransA, c, a, b, m, n, k, beta);
            }
            return c;
        }

        /** The product as {@link GemmSimd} takes it, into {@code c}. */
        GemmSimd.Product product(float[] c) {
            return switch (variant) {
                case NN -> new GemmSimd.Product(c, 0, a, 0, b, 0, m, n, k, beta, k, 1, false, null);
                case TRANS_B -> new GemmSimd.Product(c, 0, a, 0, b, 0, m, n, k, beta, k, 1, true, null);
                case TRANS_A -> new GemmSimd.Product(c, 0, a, 0, b, 0, m, n, k, beta, 1, m, false, null);
            };
        }

        /** Every element as one chain {@code c = fma(a, b, c)} over p, from {@code beta·C} (0 when beta is 0). */
        float[] fmaChains() {
            float[] r = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float sum = beta == 0f ? 0f : beta == 1f ? c0[i * n + j] : beta * c0[i * n + j];
                    for (int p = 0; p < k; p++) {
                        float av = variant == Variant.TRANS_A ? a[p * m + i] : a[i * k + p];
                        float bv = variant == Variant.TRANS_B ? b[j * k + p] : b[p * n + j];
                        sum = Math.fma(av, bv, sum);
                    }
                    r[i * n + j] = sum;
                }
            }
            return r;
        }

        /** The product in double; A is read as (m, k) or (k, m), B as (k, n) or (n, k). */
        double[] reference() {
            double[] r = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double av = variant == Variant.TRANS_A ? a[p * m + i] : a[i * k + p];
                        double bv = variant == Variant.TRANS_B ? b[j * k + p] : b[p * n + j];
                        sum += av * bv;
                    }
                    r[i * n + j] = sum + (beta == 0f ? 0 : beta * (double) c0[i * n + j]);
                }
            }
            return r;
        }

        String shape() {
            return "m=" + m + " n=" + n + " k=" + k + " beta=" + beta;
        }
    }

    private static void assertClose(String what, Problem problem, float[] actual, double[] expected) {
        Close.assertClose(what + " " + problem.shape(), expected, actual, ATOL_PER_K * Math.max(1, problem.k()), RTOL);
    }
}
