package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * {@link Gemm}'s three products over a batch of independent matrices stored one after another:
 * {@code C[e] = op(A[e])·op(B[e]) + beta·C[e]} for {@code e < batch}. The MoE layer runs all its
 * experts with them, one matrix per expert ({@code (E,C,D)·(E,D,F)}); two more carry the GELU
 * expert's activation in their store ({@link #matmulBiasGelu}, {@link #matmulTransBGeluBackward}).
 *
 * <p>Launch over {@link #grid(int, int, int)}: the rows of each batch are padded to a whole number of
 * {@link Gemm#TILE}-row work-groups, so a work-group never straddles two batches; {@code globalIdy}
 * is {@code e·mPadded + i} and {@code globalIdx} the column j. Loads and the store are guarded, the
 * loops are not, so every work-item reaches every barrier. {@link GemmSimd} holds the Vector-API
 * overrides.
 */
public final class BatchedGemm {

    private static final int TILE = Gemm.TILE;
    private static final int PADDED = TILE + 1;

    private BatchedGemm() {
    }

    /** The 2-D grid of a batch of {@code batch} C matrices of {@code m} rows and {@code n} columns. */
    public static Grid grid(int batch, int m, int n) {
        return Grid.of(n, batch * paddedRows(m), TILE, TILE);
    }

    /** Rows of one batch in the grid: {@code m} rounded up to a multiple of {@link Gemm#TILE}. */
    public static int paddedRows(int m) {
        return Math.max(1, (m + TILE - 1) / TILE) * TILE;
    }

    /**
     * {@code C[e] = A[e]·B[e] + beta·C[e]}. Work-item (j, e·mPadded + i) computes {@code C[e][i][j]}.
     *
     * @param c (batch, m, n); read only when {@code beta != 0}. Modified
     * @param a (batch, m, k). Not modified
     * @param b (batch, k, n). Not modified
     */
    public static void matmul(KernelContext ctx, float[] c, float[] a, float[] b, int batch, int m, int n, int k,
                              float beta) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float sum = dot(ctx, aTile, bTile, a, b, batch, m, n, k);
        store(c, element(ctx, batch, m, n), sum, beta);
    }

    /**
     * {@code pre[e] = A[e]·B[e] + bias[e]} and {@code h[e] = gelu(pre[e])}, the expert FFN's first
     * layer, with the bias and {@link Activation#geluForward GELU} applied in the store: one pass
     * over the hidden activations instead of three, the same bits as {@link #matmul},
     * {@link Bias#addBiasBatched} and {@link Activation#geluForward} one after another. The
     * pre-activation is kept for {@link #matmulTransBGeluBackward}. Work-item (j, e·mPadded + i)
     * computes element (e, i, j) of both.
     *
     * @param pre  (batch, m, n). Written
     * @param h    (batch, m, n). Written
     * @param a    (batch, m, k). Not modified
     * @param b    (batch, k, n). Not modified
     * @param bias (batch, n). Not modified
     */
    public static void matmulBiasGelu(KernelContext ctx, float[] pre, float[] h, float[] a, float[] b, float[] bias,
                                      int batch, int m, int n, int k) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float sum = dot(ctx, aTile, bTile, a, b, batch, m, n, k);
        int at = element(ctx, batch, m, n);
        if (at >= 0) {
            float x = sum + bias[at / (m * n) * n + at % n];
            pre[at] = x;
            h[at] = Activation.gelu(x);
        }
    }

    /** Row i of A[e] times column j of B[e] for work-item (j, e·mPadded + i), through the tiles; 0 outside the batch. */
    private static float dot(KernelContext ctx, float[] aTile, float[] bTile, float[] a, float[] b, int batch, int m,
                             int n, int k) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int mPadded = paddedRows(m);
        int e = ctx.globalIdy / mPadded;
        int i = ctx.globalIdy - e * mPadded;
        int j = ctx.globalIdx;
        boolean inBatch = e < batch;
        int aBase = e * m * k;
        int bBase = e * k * n;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            int p = t + tx;
            float av = 0f;
            if (inBatch && i < m && p < k) {
                av = a[aBase + i * k + p];
            }
            aTile[ty * TILE + tx] = av;
            int q = t + ty;
            float bv = 0f;
            if (inBatch && q < k && j < n) {
                bv = b[bBase + q * n + j];
            }
            bTile[ty * TILE + tx] = bv;
            ctx.localBarrier();
            for (int s = 0; s < TILE; s++) {
                sum += aTile[ty * TILE + s] * bTile[s * TILE + tx];
            }
            ctx.localBarrier();
        }
        return sum;
    }

    /**
     * {@code C[e] = A[e]·B[e]ᵀ + beta·C[e]}. Work-item (j, e·mPadded + i) computes {@code C[e][i][j]}.
     *
     * @param c (batch, m, n); read only when {@code beta != 0}. Modified
     * @param a (batch, m, k). Not modified
     * @param b (batch, n, k). Not modified
     */
    public static void matmulTransB(KernelContext ctx, float[] c, float[] a, float[] b, int batch, int m, int n,
                                    int k, float beta) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * PADDED);
        float sum = dotTransB(ctx, aTile, bTile, a, b, batch, m, n, k);
        store(c, element(ctx, batch, m, n), sum, beta);
    }

    /**
     * {@code dpre[e] = (dout[e]·B[e]ᵀ) ⊙ gelu'(pre[e])}: the gradient of the expert FFN's
     * pre-activation, {@link Activation#geluBackward}'s factor applied in the store of the input
     * gradient of the layer after the GELU, so the gradient of the GELU's output is never stored.
     * Equal to {@link #matmulTransB} followed by {@link Activation#geluBackward} into zeros (which
     * adds to 0, the sign of a zero aside). Work-item (j, e·mPadded + i) computes {@code dpre[e][i][j]}.
     *
     * @param dpre (batch, m, n). Written
     * @param dout (batch, m, k). Not modified
     * @param b    (batch, n, k). Not modified
     * @param pre  (batch, m, n). Not modified
     */
    public static void matmulTransBGeluBackward(KernelContext ctx, float[] dpre, float[] dout, float[] b, float[] pre,
                                                int batch, int m, int n, int k) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * PADDED);
        float sum = dotTransB(ctx, aTile, bTile, dout, b, batch, m, n, k);
        int at = element(ctx, batch, m, n);
        if (at >= 0) {
            dpre[at] = Activation.geluSlope(pre[at]) * sum;
        }
    }

    /** Row i of A[e] times row j of B[e] (a column of B[e]ᵀ) for work-item (j, e·mPadded + i), through the tiles; 0 outside the batch. */
    private static float dotTransB(KernelContext ctx, float[] aTile, float[] bTile, float[] a, float[] b, int batch,
                                   int m, int n, int k) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int mPadded = paddedRows(m);
        int e = ctx.globalIdy / mPadded;
        int i = ctx.globalIdy - e * mPadded;
        boolean inBatch = e < batch;
        int aBase = e * m * k;
        int bBase = e * n * k;
        int bRow = ctx.groupIdx * TILE + ty;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            int p = t + tx;
            float av = 0f;
            if (inBatch && i < m && p < k) {
                av = a[aBase + i * k + p];
            }
            aTile[ty * TILE + tx] = av;
            float bv = 0f;
            if (inBatch && bRow < n && p < k) {
                bv = b[bBase + bRow * k + p];
            }
            bTile[ty * PADDED + tx] = bv;
            ctx.localBarrier();
            for (int s = 0; s < TILE; s++) {
                sum += aTile[ty * TILE + s] * bTile[tx * PADDED + s];
            }
            ctx.localBarrier();
        }
        return sum;
    }

    /**
     * {@code C[e] = A[e]ᵀ·B[e] + beta·C[e]}. Work-item (j, e·mPadded + i) computes {@code C[e][i][j]}.
     *
     * @param c (batch, m, n); read only when {@code beta != 0}. Modified
     * @param a (batch, k, m). Not modified
     * @param b (batch, k, n). Not modified
     */
    public static void matmulTransA(KernelContext ctx, float[] c, float[] a, float[] b, int batch, int m, int n,
                                    int k, float beta) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * TILE);
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int mPadded = paddedRows(m);
        int e = ctx.globalIdy / mPadded;
        int j = ctx.globalIdx;
        boolean inBatch = e < batch;
        int aBase = e * k * m;
        int bBase = e * k * n;
        int aCol = (ctx.groupIdy * TILE - e * mPadded) + tx;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            int q = t + ty;
            float av = 0f;
            if (inBatch && q < k && aCol < m) {
                av = a[aBase + q * m + aCol];
            }
            aTile[ty * TILE + tx] = av;
            float bv = 0f;
            if (inBatch && q < k && j < n) {
                bv = b[bBase + q * n + j];
            }
            bTile[ty * TILE + tx] = bv;
            ctx.localBarrier();
            for (int s = 0; s < TILE; s++) {
                sum += aTile[s * TILE + ty] * bTile[s * TILE + tx];
            }
            ctx.localBarrier();
        }
        store(c, element(ctx, batch, m, n), sum, beta);
    }

    /** The index in C (batch, m, n) of work-item (j, e·mPadded + i)'s element; -1 in the padding of the grid. */
    private static int element(KernelContext ctx, int batch, int m, int n) {
        int mPadded = paddedRows(m);
        int e = ctx.globalIdy / mPadded;
        int i = ctx.globalIdy - e * mPadded;
        int j = ctx.globalIdx;
        return e < batch && i < m && j < n ? e * m * n + i * n + j : -1;
    }

    /** Writes {@code sum + beta·C[at]} unless {@code at} is -1; C is not read when beta is 0. */
    private static void store(float[] c, int at, float sum, float beta) {
        if (at >= 0) {
            if (beta == 0f) {
                c[at] = sum;
            } else {
                c[at] = sum + beta * c[at];
            }
        }
    }
}
