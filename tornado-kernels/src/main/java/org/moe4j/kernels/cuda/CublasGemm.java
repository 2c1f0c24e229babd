package org.moe4j.kernels.cuda;

import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.Launch;
import org.moe4j.kernels.lib.BatchedGemm;
import org.moe4j.kernels.lib.Gemm;

/**
 * One launch of a {@link Gemm} or {@link BatchedGemm} kernel as one column-major
 * {@code cublasSgemmStridedBatched} call. cuBLAS is column-major and the kernels are row-major;
 * a row-major C of m x n is a column-major Cᵀ, and {@code C = op(A)·op(B)} is
 * {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}, so the call takes B first and A second with m and n swapped, each
 * operand transposed where the kernel reads it transposed in memory. Plain GEMMs are a batch of 1.
 *
 * @param first        launch argument index of cuBLAS's A (the kernel's B)
 * @param transFirst   whether cuBLAS transposes it
 * @param second       launch argument index of cuBLAS's B (the kernel's A)
 * @param transSecond  whether cuBLAS transposes it
 * @param m            cuBLAS's m: the kernel's n (columns of C)
 * @param n            cuBLAS's n: the kernel's m (rows of C)
 * @param k            the inner dimension
 * @param ldFirst      leading dimension of the first operand (at least 1)
 * @param ldSecond     leading dimension of the second
 * @param ldc          leading dimension of C
 * @param strideFirst  elements from one batch's first operand to the next
 * @param strideSecond likewise for the second
 * @param strideC      likewise for C
 * @param batch        matrices in the batch
 * @param beta         scale of the old C (not read when 0, as in the kernels)
 */
record CublasGemm(int first, boolean transFirst, int second, boolean transSecond, int m, int n, int k, int ldFirst,
                  int ldSecond, int ldc, long strideFirst, long strideSecond, long strideC, int batch, float beta) {

    /** Launch argument index of C in every GEMM kernel. */
    static final int C = 0;
    private static final int A = 1;
    private static final int B = 2;

    private enum Variant { PLAIN, TRANS_B, TRANS_A }

    private static final KernelMethod MATMUL = method(Gemm::matmul);
    private static final KernelMethod MATMUL_TRANS_B = method(Gemm::matmulTransB);
    private static final KernelMethod MATMUL_TRANS_A = method(Gemm::matmulTransA);
    private static final KernelMethod BATCHED = method(BatchedGemm::matmul);
    private static final KernelMethod BATCHED_TRANS_B = method(BatchedGemm::matmulTransB);
    private static final KernelMethod BATCHED_TRANS_A = method(BatchedGemm::matmulTransA);

    private static KernelMethod method(org.moe4j.kernels.Kernel7<float[], float[], float[], Integer, Integer, Integer, Float> k) {
        return KernelMethod.of(k);
    }

    private static KernelMethod method(org.moe4j.kernels.Kernel8<float[], float[], float[], Integer, Integer, Integer,
            Integer, Float> k) {
        return KernelMethod.of(k);
    }

    /** The cuBLAS call of {@code launch}, or null when it does not launch a GEMM kernel. */
    static CublasGemm of(Launch launch) {
        KernelMethod method = KernelMethod.of(launch.kernel());
        Object[] a = launch.args();
        if (method.equals(MATMUL) || method.equals(MATMUL_TRANS_B) || method.equals(MATMUL_TRANS_A)) {
            Variant v = method.equals(MATMUL) ? Variant.PLAIN : method.equals(MATMUL_TRANS_B) ? Variant.TRANS_B : Variant.TRANS_A;
            return of(v, 1, (Integer) a[3], (Integer) a[4], (Integer) a[5], (Float) a[6]);
        }
        if (method.equals(BATCHED) || method.equals(BATCHED_TRANS_B) || method.equals(BATCHED_TRANS_A)) {
            Variant v = method.equals(BATCHED) ? Variant.PLAIN : method.equals(BATCHED_TRANS_B) ? Variant.TRANS_B
                    : Variant.TRANS_A;
            return of(v, (Integer) a[3], (Integer) a[4], (Integer) a[5], (Integer) a[6], (Float) a[7]);
        }
        return null;
    }

    /** C (m, n) = op(A)·op(B) in row-major, as the kernels' Javadoc gives the shapes. */
    private static CublasGemm of(Variant v, int batch, int m, int n, int k, float beta) {
        long a = (long) m * k;
        long b = (long) k * n;
        return switch (v) {
            // A (m,k), B (k,n): Cᵀ = Bᵀ·Aᵀ, both read as they lie
            case PLAIN -> new CublasGemm(B, false, A, false, n, m, k, ld(n), ld(k), ld(n), b, a, (long) m * n, batch, beta);
            // A (m,k), B (n,k): Cᵀ = B·Aᵀ, B transposed
            case TRANS_B -> new CublasGemm(B, true, A, false, n, m, k, ld(k), ld(k), ld(n), b, a, (long) m * n, batch, beta);
            // A (k,m), B (k,n): Cᵀ = Bᵀ·A, A transposed
            case TRANS_A -> new CublasGemm(B, false, A, true, n, m, k, ld(n), ld(m), ld(n), b, a, (long) m * n, batch, beta);
        };
    }

    /** cuBLAS wants leading dimensions of at least 1, also for empty matrices. */
    private static int ld(int rows) {
        return Math.max(1, rows);
    }

    /** Whether the call has nothing to compute (an empty C); cuBLAS is not called then. */
    boolean empty() {
        return m == 0 || n == 0 || batch == 0;
    }
}
