package org.moe4j.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.Kernel7;
import org.moe4j.kernels.Kernel8;
import org.moe4j.kernels.Launch;
import org.moe4j.kernels.lib.BatchedGemm;
import org.moe4j.kernels.lib.Elementwise;
import org.moe4j.kernels.lib.Gemm;

/**
 * The row-major GEMM kernels as column-major cuBLAS calls, checked without a GPU: a naive
 * column-major strided batched SGEMM, run with the arguments {@link CublasGemm} computes, gives
 * what the portable kernels give on the JVM (to float rounding: the sums run in another order).
 */
class CublasGemmTest {
    private final JvmDevice jvm = new JvmDevice(1, true);
    private final SplittableRandom random = new SplittableRandom(11);

    @Test
    void plainGemmsMatchTheKernels() {
        int[][] shapes = {{5, 7, 3}, {16, 16, 16}, {1, 9, 33}, {17, 1, 4}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (float beta : new float[] {0f, 1f}) {
                plain(Gemm::matmul, m, n, k, m * k, k * n, beta);
                plain(Gemm::matmulTransB, m, n, k, m * k, n * k, beta);
                plain(Gemm::matmulTransA, m, n, k, k * m, k * n, beta);
            }
        }
    }

    @Test
    void batchedGemmsMatchTheKernels() {
        int batch = 3;
        int m = 6;
        int n = 5;
        int k = 4;
        for (float beta : new float[] {0f, 1f}) {
            batched(BatchedGemm::matmul, batch, m, n, k, m * k, k * n, beta);
            batched(BatchedGemm::matmulTransB, batch, m, n, k, m * k, n * k, beta);
            batched(BatchedGemm::matmulTransA, batch, m, n, k, k * m, k * n, beta);
        }
    }

    @Test
    void otherKernelsAndEmptyProductsAreNotCublasWork() {
        Launch fill = new Launch(Grid.of(1), (org.moe4j.kernels.Kernel3<float[], Float, Integer>) Elementwise::fill, c -> {
        }, new Object[] {new float[1], 0f, 1});
        assertNull(CublasGemm.of(fill));
        CublasGemm empty = CublasGemm.of(launch((Kernel7<float[], float[], float[], Integer, Integer, Integer, Float>) Gemm::matmul, new Object[] {new float[0], new float[0], new float[0], 0, 4, 3, 0f}));
        assertTrue(empty.empty());
        CublasGemm noInner = CublasGemm.of(launch((Kernel7<float[], float[], float[], Integer, Integer, Integer, Float>) Gemm::matmulTransB,
                new Object[] {new float[6], new float[0], new float[0], 2, 3, 0, 0f}));
        assertEquals(1, noInner.ldFirst(), "leading dimensions stay at least 1 for cuBLAS");
    }

    private void plain(Kernel7<float[], float[], float[], Integer, Integer, Integer, Float> kernel, int m, int n, int k,
                       int aSize, int bSize, float beta) {
        float[] a = floats(aSize);
        float[] b = floats(bSize);
        float[] c = floats(m * n);
        float[] want = c.clone();
        jvm.launch(Gemm.grid(m, n), kernel, want, a, b, m, n, k, beta);
        Object[] args = {c, a, b, m, n, k, beta};
        compare(kernel + " " + m + "x" + n + "x" + k, want, columnMajor(CublasGemm.of(launch(kernel, args)), args));
    }

    private void batched(Kernel8<float[], float[], float[], Integer, Integer, Integer, Integer, Float> kernel, int batch,
                         int m, int n, int k, int aSize, int bSize, float beta) {
        float[] a = floats(batch * aSize);
        float[] b = floats(batch * bSize);
        float[] c = floats(batch * m * n);
        float[] want = c.clone();
        jvm.launch(BatchedGemm.grid(batch, m, n), kernel, want, a, b, batch, m, n, k, beta);
        Object[] args = {c, a, b, batch, m, n, k, beta};
        compare("batched " + kernel, want, columnMajor(CublasGemm.of(launch(kernel, args)), args));
    }

    private static Launch launch(org.moe4j.kernels.KernelRef kernel, Object[] args) {
        return new Launch(Grid.of(1), kernel, c -> {
        }, args);
    }

    /** What cublasSgemmStridedBatched computes with {@code g}'s arguments, column-major, on copies of the arrays. */
    private static float[] columnMajor(CublasGemm g, Object[] args) {
        float[] first = (float[]) args[g.first()];
        float[] second = (float[]) args[g.second()];
        float[] c = ((float[]) args[CublasGemm.C]).clone();
        for (int e = 0; e < g.batch(); e++) {
            for (int j = 0; j < g.n(); j++) {
                for (int i = 0; i < g.m(); i++) {
                    double sum = 0;
                    for (int p = 0; p < g.k(); p++) {
                        float x = g.transFirst() ? first[(int) (e * g.strideFirst()) + p + i * g.ldFirst()]
                                : first[(int) (e * g.strideFirst()) + i + p * g.ldFirst()];
                        float y = g.transSecond() ? second[(int) (e * g.strideSecond()) + j + p * g.ldSecond()]
                                : second[(int) (e * g.strideSecond()) + p + j * g.ldSecond()];
                        sum += (double) x * y;
                    }
                    int at = (int) (e * g.strideC()) + i + j * g.ldc();
                    c[at] = (float) (sum + (g.beta() == 0 ? 0 : g.beta() * c[at]));
                }
            }
        }
        return c;
    }

    private static void compare(String what, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5f * (1 + Math.abs(want[i])), what + " at " + i);
        }
    }

    private float[] floats(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }
}
