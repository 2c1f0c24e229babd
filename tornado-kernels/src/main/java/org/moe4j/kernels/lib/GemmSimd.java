package org.moe4j.kernels.lib;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.moe4j.kernels.JvmDevice;

/**
 * Vector-API overrides of {@link Gemm}'s kernels, with the same parameters less the
 * {@code KernelContext}.
 *
 * <p>One register-blocked micro-kernel does all three products: it keeps a {@value #MR} rows x
 * 2 vectors block of C in registers and, for each p of a {@value #KC}-long slice of k, broadcasts
 * one A value per row and FMAs it into two vectors of one B row. A is read through a row and a
 * column stride, so Aᵀ costs nothing; Bᵀ is transposed into a scratch array first (n·k copies
 * against m·n·k FMAs). Rows and columns that do not fill a block take narrower loops, and the
 * columns after the last whole vector a scalar tail.
 *
 * <p>C is cut into tiles of whole micro-blocks, forked as tasks on the calling fork/join pool (the
 * JVM device's, when it runs these as overrides). Each element is summed in the same order, p from
 * 0 to k with one FMA each, whichever tile, block or tail computes it, so results are the same bits
 * on any number of threads.
 */
public final class GemmSimd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Rows of a micro-block. */
    private static final int MR = 6;
    /** Columns of a micro-block: two vectors. */
    private static final int NR = 2 * VL;
    /** Length of the k slice whose B panel ({@code KC x NR} floats) stays in L1. */
    private static final int KC = 256;
    /** Most rows of a tile: its A slice ({@code MC x KC}) stays in L2. */
    private static final int MC = 16 * MR;
    /** Below this many multiply-adds a product runs on the calling thread. */
    private static final long SERIAL_WORK = 1L << 18;

    private GemmSimd() {
    }

    /** Makes {@code device} run these overrides in place of the portable {@link Gemm} kernels. */
    public static void registerOn(JvmDevice device) {
        device.override(Gemm::matmul, GemmSimd::matmul);
        device.override(Gemm::matmulTransB, GemmSimd::matmulTransB);
        device.override(Gemm::matmulTransA, GemmSimd::matmulTransA);
    }

    /**
     * {@code C = A·B + beta·C}.
     *
     * @param c (m, n); read only when {@code beta != 0}. Modified
     * @param a (m, k). Not modified
     * @param b (k, n). Not modified
     */
    public static void matmul(float[] c, float[] a, float[] b, int m, int n, int k, float beta) {
        checkShapes("matmul", c, a, b, m, n, k);
        run(c, a, b, m, n, k, beta, k, 1);
    }

    /**
     * {@code C = A·Bᵀ + beta·C}.
     *
     * @param c (m, n); read only when {@code beta != 0}. Modified
     * @param a (m, k). Not modified
     * @param b (n, k). Not modified
     */
    public static void matmulTransB(float[] c, float[] a, float[] b, int m, int n, int k, float beta) {
        checkShapes("matmulTransB", c, a, b, m, n, k);
        if (m == 0 || n == 0) {
            return;
        }
        run(c, a, transpose(b, n, k), m, n, k, beta, k, 1);
    }

    /**
     * {@code C = Aᵀ·B + beta·C}.
     *
     * @param c (m, n); read only when {@code beta != 0}. Modified
     * @param a (k, m). Not modified
     * @param b (k, n). Not modified
     */
    public static void matmulTransA(float[] c, float[] a, float[] b, int m, int n, int k, float beta) {
        checkShapes("matmulTransA", c, a, b, m, n, k);
        run(c, a, b, m, n, k, beta, 1, m);
    }

    private static void checkShapes(String op, float[] c, float[] a, float[] b, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": negative shape m=" + m + " n=" + n + " k=" + k);
        }
        check(op, "c", c, (long) m * n);
        check(op, "a", a, (long) m * k);
        check(op, "b", b, (long) k * n);
        if (c == a || c == b) {
            throw new IllegalArgumentException(op + ": c must not alias a or b");
        }
    }

    private static void check(String op, String name, float[] array, long needed) {
        if (array.length < needed) {
            throw new IllegalArgumentException(op + ": " + name + " has " + array.length
                    + " elements, the shape needs " + needed);
        }
    }

    /** {@code bt[p][j] = b[j][p]} for b of (n, k), in 16 x 16 blocks. */
    private static float[] transpose(float[] b, int n, int k) {
        float[] bt = new float[k * n];
        for (int j0 = 0; j0 < n; j0 += 16) {
            int j1 = Math.min(n, j0 + 16);
            for (int p0 = 0; p0 < k; p0 += 16) {
                int p1 = Math.min(k, p0 + 16);
                for (int j = j0; j < j1; j++) {
                    for (int p = p0; p < p1; p++) {
                        bt[p * n + j] = b[j * k + p];
                    }
                }
            }
        }
        return bt;
    }

    /**
     * {@code C = A·B + beta·C}, A element (i, p) at {@code a[i*ars + p*acs]}, B row-major (k, n).
     */
    private static void run(float[] c, float[] a, float[] b, int m, int n, int k, float beta, int ars, int acs) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            for (int i = 0; i < m * n; i++) {
                c[i] = beta == 0f ? 0f : beta * c[i];
            }
            return;
        }
        ForkJoinPool pool = ForkJoinTask.getPool();
        int threads = pool != null ? pool.getParallelism() : ForkJoinPool.getCommonPoolParallelism();
        if (threads <= 1 || (long) m * n * k < SERIAL_WORK) {
            tile(c, a, b, n, k, beta, ars, acs, 0, m, 0, n);
            return;
        }
        // Tiles of whole micro-blocks: rows first; split columns too when rows alone give too few tasks.
        int wanted = 4 * threads;
        int rowTiles = Math.min(Math.ceilDiv(m, MR), Math.max(Math.ceilDiv(m, MC), wanted));
        int rowsPerTile = roundUp(Math.ceilDiv(m, rowTiles), MR);
        rowTiles = Math.ceilDiv(m, rowsPerTile);
        int colTiles = Math.min(Math.ceilDiv(n, NR), Math.ceilDiv(wanted, rowTiles));
        int colsPerTile = roundUp(Math.ceilDiv(n, colTiles), NR);
        List<RecursiveAction> tasks = new ArrayList<>();
        for (int r0 = 0; r0 < m; r0 += rowsPerTile) {
            for (int c0 = 0; c0 < n; c0 += colsPerTile) {
                int rowFrom = r0;
                int rowTo = Math.min(m, r0 + rowsPerTile);
                int colFrom = c0;
                int colTo = Math.min(n, c0 + colsPerTile);
                tasks.add(new RecursiveAction() {
                    @Override
                    protected void compute() {
                        tile(c, a, b, n, k, beta, ars, acs, rowFrom, rowTo, colFrom, colTo);
                    }
                });
            }
        }
        ForkJoinTask.invokeAll(tasks);
    }

    private static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }

    /** Rows {@code [r0, r1)} by columns {@code [c0, c1)} of C, k in slices of {@link #KC}. */
    private static void tile(float[] c, float[] a, float[] b, int n, int k, float beta, int ars, int acs,
                             int r0, int r1, int c0, int c1) {
        for (int p0 = 0; p0 < k; p0 += KC) {
            int p1 = Math.min(k, p0 + KC);
            // The first slice starts from beta·C (or zero, C unread); later slices from C.
            boolean load = p0 > 0 || beta != 0f;
            float scale = p0 > 0 ? 1f : beta;
            int j = c0;
            for (; j + NR <= c1; j += NR) {
                int i = r0;
                for (; i + MR <= r1; i += MR) {
                    block6x2(c, a, b, n, ars, acs, i, j, p0, p1, load, scale);
                }
                for (; i < r1; i++) {
                    row1x1(c, a, b, n, ars, acs, i, j, p0, p1, load, scale);
                    row1x1(c, a, b, n, ars, acs, i, j + VL, p0, p1, load, scale);
                }
            }
            for (; j + VL <= c1; j += VL) {
                int i = r0;
                for (; i + MR <= r1; i += MR) {
                    block6x1(c, a, b, n, ars, acs, i, j, p0, p1, load, scale);
                }
                for (; i < r1; i++) {
                    row1x1(c, a, b, n, ars, acs, i, j, p0, p1, load, scale);
                }
            }
            for (; j < c1; j++) {
                for (int i = r0; i < r1; i++) {
                    scalar(c, a, b, n, ars, acs, i, j, p0, p1, load, scale);
                }
            }
        }
    }

    private static FloatVector start(float[] c, int at, boolean load, float scale) {
        return load ? FloatVector.fromArray(S, c, at).mul(scale) : FloatVector.zero(S);
    }

    /** C[i..i+6)[j..j+2·VL) += A[i..i+6)[p0..p1)·B[p0..p1)[j..j+2·VL). */
    private static void block6x2(float[] c, float[] a, float[] b, int n, int ars, int acs,
                                 int i, int j, int p0, int p1, boolean load, float scale) {
        int c0 = i * n + j;
        FloatVector c00 = start(c, c0, load, scale);
        FloatVector c01 = start(c, c0 + VL, load, scale);
        FloatVector c10 = start(c, c0 + n, load, scale);
        FloatVector c11 = start(c, c0 + n + VL, load, scale);
        FloatVector c20 = start(c, c0 + 2 * n, load, scale);
        FloatVector c21 = start(c, c0 + 2 * n + VL, load, scale);
        FloatVector c30 = start(c, c0 + 3 * n, load, scale);
        FloatVector c31 = start(c, c0 + 3 * n + VL, load, scale);
        FloatVector c40 = start(c, c0 + 4 * n, load, scale);
        FloatVector c41 = start(c, c0 + 4 * n + VL, load, scale);
        FloatVector c50 = start(c, c0 + 5 * n, load, scale);
        FloatVector c51 = start(c, c0 + 5 * n + VL, load, scale);
        int a0 = i * ars + p0 * acs;
        int a1 = a0 + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        int a4 = a3 + ars;
        int a5 = a4 + ars;
        int bp = p0 * n + j;
        for (int p = p0; p < p1; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + VL);
            FloatVector av = FloatVector.broadcast(S, a[a0]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[a1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[a2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[a3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[a4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, a[a5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            a0 += acs;
            a1 += acs;
            a2 += acs;
            a3 += acs;
            a4 += acs;
            a5 += acs;
            bp += n;
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + VL);
        c10.intoArray(c, c0 + n);
        c11.intoArray(c, c0 + n + VL);
        c20.intoArray(c, c0 + 2 * n);
        c21.intoArray(c, c0 + 2 * n + VL);
        c30.intoArray(c, c0 + 3 * n);
        c31.intoArray(c, c0 + 3 * n + VL);
        c40.intoArray(c, c0 + 4 * n);
        c41.intoArray(c, c0 + 4 * n + VL);
        c50.intoArray(c, c0 + 5 * n);
        c51.intoArray(c, c0 + 5 * n + VL);
    }

    /** C[i..i+6)[j..j+VL) += A[i..i+6)[p0..p1)·B[p0..p1)[j..j+VL). */
    private static void block6x1(float[] c, float[] a, float[] b, int n, int ars, int acs,
                                 int i, int j, int p0, int p1, boolean load, float scale) {
        int c0 = i * n + j;
        FloatVector c00 = start(c, c0, load, scale);
        FloatVector c10 = start(c, c0 + n, load, scale);
        FloatVector c20 = start(c, c0 + 2 * n, load, scale);
        FloatVector c30 = start(c, c0 + 3 * n, load, scale);
        FloatVector c40 = start(c, c0 + 4 * n, load, scale);
        FloatVector c50 = start(c, c0 + 5 * n, load, scale);
        int a0 = i * ars + p0 * acs;
        int bp = p0 * n + j;
        for (int p = p0; p < p1; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            c00 = FloatVector.broadcast(S, a[a0]).fma(b0, c00);
            c10 = FloatVector.broadcast(S, a[a0 + ars]).fma(b0, c10);
            c20 = FloatVector.broadcast(S, a[a0 + 2 * ars]).fma(b0, c20);
            c30 = FloatVector.broadcast(S, a[a0 + 3 * ars]).fma(b0, c30);
            c40 = FloatVector.broadcast(S, a[a0 + 4 * ars]).fma(b0, c40);
            c50 = FloatVector.broadcast(S, a[a0 + 5 * ars]).fma(b0, c50);
            a0 += acs;
            bp += n;
        }
        c00.intoArray(c, c0);
        c10.intoArray(c, c0 + n);
        c20.intoArray(c, c0 + 2 * n);
        c30.intoArray(c, c0 + 3 * n);
        c40.intoArray(c, c0 + 4 * n);
        c50.intoArray(c, c0 + 5 * n);
    }

    /** C[i][j..j+VL) += A[i][p0..p1)·B[p0..p1)[j..j+VL). */
    private static void row1x1(float[] c, float[] a, float[] b, int n, int ars, int acs,
                               int i, int j, int p0, int p1, boolean load, float scale) {
        int c0 = i * n + j;
        FloatVector acc = start(c, c0, load, scale);
        int a0 = i * ars + p0 * acs;
        int bp = p0 * n + j;
        for (int p = p0; p < p1; p++) {
            acc = FloatVector.broadcast(S, a[a0]).fma(FloatVector.fromArray(S, b, bp), acc);
            a0 += acs;
            bp += n;
        }
        acc.intoArray(c, c0);
    }

    /** C[i][j] += A[i][p0..p1)·B[p0..p1)[j], one FMA per p as in the vector lanes. */
    private static void scalar(float[] c, float[] a, float[] b, int n, int ars, int acs,
                               int i, int j, int p0, int p1, boolean load, float scale) {
        int at = i * n + j;
        float acc = load ? c[at] * scale : 0f;
        int a0 = i * ars + p0 * acs;
        int bp = p0 * n + j;
        for (int p = p0; p < p1; p++) {
            acc = Math.fma(a[a0], b[bp], acc);
            a0 += acs;
            bp += n;
        }
        c[at] = acc;
    }
}
