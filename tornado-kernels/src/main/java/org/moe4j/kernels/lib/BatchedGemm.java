package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * {@link Gemm}'s three products over a batch of independent matrices stored one after another:
 * {@code C[e] = op(A[e])·op(B[e]) + beta·C[e]} for {@code e < batch}. The MoE layer runs all its
 * experts with them, one matrix per expert ({@code (E,C,D)·(E,D,F)}).
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
        store(c, e, i, j, batch, m, n, sum, beta);
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
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int mPadded = paddedRows(m);
        int e = ctx.globalIdy / mPadded;
        int i = ctx.globalIdy - e * mPadded;
        int j = ctx.globalIdx;
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
        store(c, e, i, j, batch, m, n, sum, beta);
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
        int i = ctx.globalIdy - e * mPadded;
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
        store(c, e, i, j, batch, m, n, sum, beta);
    }

    /** Writes {@code sum + beta·C[e][i][j]} when (e, i, j) lies inside C; C is not read when beta is 0. */
    private static void store(float[] c, int e, int i, int j, int batch, int m, int n, float sum, float beta) {
        if (e < batch && i < m && j < n) {
            int at = e * m * n + i * n + j;
            if (beta == 0f) {
                c[at] = sum;
            } else {
                c[at] = sum + beta * c[at];
            }
        }
    }
}
