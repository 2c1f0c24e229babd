package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Portable tiled matrix products on row-major float arrays: the classic OpenCL local-memory SGEMM.
 * A work-group of {@link #TILE}x{@link #TILE} work-items computes one {@code TILE x TILE} block of C;
 * for each step of {@code TILE} along k it copies one tile of A and one of B into local memory,
 * meets at a barrier, accumulates, and meets again. Loads and the store are guarded, never the
 * loop, so that every work-item reaches every barrier whatever m, n and k are.
 *
 * <p>Launch each kernel on {@link #grid(int, int)}: {@code globalIdx} is the column j of C,
 * {@code globalIdy} the row i. {@code beta} scales the old C ({@code 0} or {@code 1} in practice);
 * when it is {@code 0} C is not read, so whatever C held (NaN included) is overwritten.
 * {@link GemmSimd} holds the Vector-API overrides.
 */
public final class Gemm {

    /** Work-group edge: work-groups are {@code TILE x TILE}, local tiles {@code TILE x TILE} floats. */
    public static final int TILE = 16;

    /** Row stride of a local tile that is read down its columns; one more than TILE avoids bank conflicts. */
    private static final int PADDED = TILE + 1;

    private Gemm() {
    }

    /** The 2-D grid to launch the kernels of this class with, for a C of {@code m} rows and {@code n} columns. */
    public static Grid grid(int m, int n) {
        return Grid.of(n, m, TILE, TILE);
    }

    /**
     * {@code C = A·B + beta·C}. Work-item (j, i) computes {@code C[i][j] = sum_p A[i][p]·B[p][j] + beta·C[i][j]}.
     *
     * @param c    (m, n) output; read only when {@code beta != 0}. Modified
     * @param a    (m, k). Not modified
     * @param b    (k, n). Not modified
     * @param beta scale of the old C
     */
    public static void matmul(KernelContext ctx, float[] c, float[] a, float[] b, int m, int n, int k, float beta) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * TILE);
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int j = ctx.globalIdx;
        int i = ctx.globalIdy;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            // aTile[ty][tx] = A[i][t + tx], bTile[ty][tx] = B[t + ty][j]
            int p = t + tx;
            float av = 0f;
            if (i < m && p < k) {
                av = a[i * k + p];
            }
            aTile[ty * TILE + tx] = av;
            int q = t + ty;
            float bv = 0f;
            if (q < k && j < n) {
                bv = b[q * n + j];
            }
            bTile[ty * TILE + tx] = bv;
            ctx.localBarrier();
            for (int s = 0; s < TILE; s++) {
                sum += aTile[ty * TILE + s] * bTile[s * TILE + tx];
            }
            ctx.localBarrier();
        }
        store(c, i, j, m, n, sum, beta);
    }

    /**
     * {@code C = A·Bᵀ + beta·C}. Work-item (j, i) computes {@code C[i][j] = sum_p A[i][p]·B[j][p] + beta·C[i][j]}.
     *
     * @param c    (m, n) output; read only when {@code beta != 0}. Modified
     * @param a    (m, k). Not modified
     * @param b    (n, k). Not modified
     * @param beta scale of the old C
     */
    public static void matmulTransB(KernelContext ctx, float[] c, float[] a, float[] b, int m, int n, int k, float beta) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * PADDED);
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int j = ctx.globalIdx;
        int i = ctx.globalIdy;
        int bRow = ctx.groupIdx * TILE + ty;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            // aTile[ty][tx] = A[i][t + tx]; bTile[ty][tx] = B[group's column ty][t + tx], read along k
            int p = t + tx;
            float av = 0f;
            if (i < m && p < k) {
                av = a[i * k + p];
            }
            aTile[ty * TILE + tx] = av;
            float bv = 0f;
            if (bRow < n && p < k) {
                bv = b[bRow * k + p];
            }
            bTile[ty * PADDED + tx] = bv;
            ctx.localBarrier();
            for (int s = 0; s < TILE; s++) {
                sum += aTile[ty * TILE + s] * bTile[tx * PADDED + s];
            }
            ctx.localBarrier();
        }
        store(c, i, j, m, n, sum, beta);
    }

    /**
     * {@code C = Aᵀ·B + beta·C}. Work-item (j, i) computes {@code C[i][j] = sum_p A[p][i]·B[p][j] + beta·C[i][j]}.
     *
     * @param c    (m, n) output; read only when {@code beta != 0}. Modified
     * @param a    (k, m). Not modified
     * @param b    (k, n). Not modified
     * @param beta scale of the old C
     */
    public static void matmulTransA(KernelContext ctx, float[] c, float[] a, float[] b, int m, int n, int k, float beta) {
        float[] aTile = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = ctx.allocateFloatLocalArray(TILE * TILE);
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int j = ctx.globalIdx;
        int i = ctx.globalIdy;
        int aCol = ctx.groupIdy * TILE + tx;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            // aTile[ty][tx] = A[t + ty][group's row tx], read along m; bTile[ty][tx] = B[t + ty][j]
            int q = t + ty;
            float av = 0f;
            if (q < k && aCol < m) {
                av = a[q * m + aCol];
            }
            aTile[ty * TILE + tx] = av;
            float bv = 0f;
            if (q < k && j < n) {
                bv = b[q * n + j];
            }
            bTile[ty * TILE + tx] = bv;
            ctx.localBarrier();
            for (int s = 0; s < TILE; s++) {
                sum += aTile[s * TILE + ty] * bTile[s * TILE + tx];
            }
            ctx.localBarrier();
        }
        store(c, i, j, m, n, sum, beta);
    }

    /** Writes {@code sum + beta·C[i][j]} when (i, j) lies inside C; C is not read when beta is 0. */
    private static void store(float[] c, int i, int j, int m, int n, float sum, float beta) {
        if (i < m && j < n) {
            int at = i * n + j;
            if (beta == 0f) {
                c[at] = sum;
            } else {
                c[at] = sum + beta * c[at];
            }
        }
    }
}
