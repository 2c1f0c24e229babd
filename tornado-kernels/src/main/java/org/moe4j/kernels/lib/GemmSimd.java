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
 * one A value per row and FMAs it into two vectors of one B row. A and B are first packed into
 * per-thread buffers (BLIS style: A as {@value #MR}-row micro-panels, B as 2-vector-wide panels),
 * reading A or Aᵀ, B or Bᵀ as the variant says, so the micro-kernel reads both contiguously and
 * the three variants share it. Rows and columns that do not fill a block take one-row vector
 * loops, and the columns after the last whole vector a scalar tail.
 *
 * <p>C is cut into tiles of whole micro-blocks, forked as tasks on the calling fork/join pool (the
 * JVM device's, when it runs these as overrides). Each element is summed in the same order, p from
 * 0 to k with one FMA each, whichever tile, block or tail computes it, so results are the same bits
 * on any number of threads.
 */
public final class GemmSimd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /**
     * Rows of a micro-block. With 8-float (AVX2) vectors, 4 rows x 2 vectors keep 8 accumulators, two
     * B vectors and a broadcast in registers; C2 spilled an accumulator of a 6 x 2 block to the stack
     * on every step of p, which halved the block's speed (measured 42 against 67 GFLOP/s per core).
     */
    private static final int MR = 4;
    /** Columns of a micro-block: two vectors. */
    private static final int NR = 2 * VL;
    /** Length of the k slice whose B panel ({@code KC x NR} floats) stays in L1. */
    private static final int KC = 256;
    /** Most rows of a tile: its A slice ({@code MC x KC}) stays in L2. */
    private static final int MC = 24 * MR;
    /** Tiles of C per pool thread: enough to even out the threads, few enough to pack little. */
    private static final int TASKS_PER_THREAD = 4;
    /** Below this many multiply-adds a product runs on the calling thread. */
    private static final long SERIAL_WORK = 1L << 18;

    private GemmSimd() {
    }

    /** Makes {@code device} run these overrides in place of the portable {@link Gemm} kernels. */
    public static void registerOn(JvmDevice device) {
        device.override(Gemm::matmul, GemmSimd::matmul);
        device.override(Gemm::matmulTransB, GemmSimd::matmulTransB);
        device.override(Gemm::matmulTransA, GemmSimd::matmulTransA);
        device.override(BatchedGemm::matmul, GemmSimd::matmulBatched);
        device.override(BatchedGemm::matmulTransB, GemmSimd::matmulTransBBatched);
        device.override(BatchedGemm::matmulTransA, GemmSimd::matmulTransABatched);
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
        run(c, 0, a, 0, b, 0, m, n, k, beta, k, 1, false);
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
        run(c, 0, a, 0, b, 0, m, n, k, beta, k, 1, true);
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
        run(c, 0, a, 0, b, 0, m, n, k, beta, 1, m, false);
    }

    /**
     * {@code C[e] = A[e]·B[e] + beta·C[e]} for each of {@code batch} matrices stored one after another.
     *
     * @param c (batch, m, n); read only when {@code beta != 0}. Modified
     * @param a (batch, m, k). Not modified
     * @param b (batch, k, n). Not modified
     */
    public static void matmulBatched(float[] c, float[] a, float[] b, int batch, int m, int n, int k, float beta) {
        checkShapes("matmulBatched", c, a, b, batch, m, n, k);
        runBatched(c, a, b, batch, m, n, k, beta, k, 1, false);
    }

    /**
     * {@code C[e] = A[e]·B[e]ᵀ + beta·C[e]} for each of {@code batch} matrices.
     *
     * @param c (batch, m, n); read only when {@code beta != 0}. Modified
     * @param a (batch, m, k). Not modified
     * @param b (batch, n, k). Not modified
     */
    public static void matmulTransBBatched(float[] c, float[] a, float[] b, int batch, int m, int n, int k,
                                           float beta) {
        checkShapes("matmulTransBBatched", c, a, b, batch, m, n, k);
        runBatched(c, a, b, batch, m, n, k, beta, k, 1, true);
    }

    /**
     * {@code C[e] = A[e]ᵀ·B[e] + beta·C[e]} for each of {@code batch} matrices.
     *
     * @param c (batch, m, n); read only when {@code beta != 0}. Modified
     * @param a (batch, k, m). Not modified
     * @param b (batch, k, n). Not modified
     */
    public static void matmulTransABatched(float[] c, float[] a, float[] b, int batch, int m, int n, int k,
                                           float beta) {
        checkShapes("matmulTransABatched", c, a, b, batch, m, n, k);
        runBatched(c, a, b, batch, m, n, k, beta, 1, m, false);
    }

    private static void checkShapes(String op, float[] c, float[] a, float[] b, int batch, int m, int n, int k) {
        if (batch < 0) {
            throw new IllegalArgumentException(op + ": negative batch " + batch);
        }
        checkShapes(op, c, a, b, m, n, k);
        check(op, "c", c, (long) batch * m * n);
        check(op, "a", a, (long) batch * m * k);
        check(op, "b", b, (long) batch * k * n);
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

    /**
     * {@code C = A·B + beta·C}, A element (i, p) at {@code a[i*ars + p*acs]}, B (k, n) or, when
     * {@code transB}, (n, k).
     */
    private static void run(float[] c, int cOff, float[] a, int aOff, float[] b, int bOff, int m, int n, int k,
                            float beta, int ars, int acs, boolean transB) {
        List<RecursiveAction> tasks = new ArrayList<>();
        addTiles(tasks, c, cOff, a, aOff, b, bOff, m, n, k, beta, ars, acs, transB, threads(), (long) m * n * k);
        ForkJoinTask.invokeAll(tasks);
    }

    /**
     * All {@code batch} products as one set of tasks, so that small experts still fill the threads.
     *
     * <p>Trailing rows of zeros are not multiplied: an MoE layer's expert buffers {@code (E,C,·)} keep
     * each expert's tokens in its first slots and zeros in the unused ones (and zero gradients there
     * in the backward pass), so the padding would otherwise cost as much as real tokens. With
     * A (m,k): rows of A from the last non-zero one on give rows of C equal to {@code beta·C}. With
     * Aᵀ (A stored (k,m), B (k,n)): the sum over p stops after the last p whose rows of A and B are
     * both non-zero. Either way the skipped terms are products with 0, which the portable kernel adds
     * as ±0 without changing the sum, so the results are the same (for finite B, resp. finite A and B:
     * a NaN or infinity times 0 would have made NaN there).
     */
    private static void runBatched(float[] c, float[] a, float[] b, int batch, int m, int n, int k, float beta,
                                   int ars, int acs, boolean transB) {
        List<RecursiveAction> tasks = new ArrayList<>();
        int threads = threads();
        long work = (long) batch * m * n * k;
        boolean transA = acs != 1;
        for (int e = 0; e < batch; e++) {
            int aOff = e * m * k;
            int bOff = e * k * n;
            int cOff = e * m * n;
            int rows = m;
            int depth = k;
            if (transA) {
                depth = Math.min(usedRows(a, aOff, k, m), usedRows(b, bOff, k, n));
            } else {
                rows = usedRows(a, aOff, m, k);
                scaleRows(c, cOff + rows * n, (m - rows) * n, beta);
            }
            addTiles(tasks, c, cOff, a, aOff, b, bOff, rows, n, depth, beta, ars, acs, transB,
                    Math.max(1, Math.ceilDiv(threads, Math.max(1, batch))), work);
        }
        ForkJoinTask.invokeAll(tasks);
    }

    /** One more than the index of the last of {@code rows} rows of {@code width} at {@code off} with a non-zero; 0 if none. */
    private static int usedRows(float[] x, int off, int rows, int width) {
        for (int r = rows - 1; r >= 0; r--) {
            int from = off + r * width;
            for (int i = from; i < from + width; i++) {
                if (x[i] != 0f) {
                    return r + 1;
                }
            }
        }
        return 0;
    }

    /** {@code c[from..from+count) = beta·c}, C unread when beta is 0: what a product with zeros gives. */
    private static void scaleRows(float[] c, int from, int count, float beta) {
        if (beta == 1f) {
            return;
        }
        for (int i = from; i < from + count; i++) {
            c[i] = beta == 0f ? 0f : beta * c[i];
        }
    }

    private static int threads() {
        ForkJoinPool pool = ForkJoinTask.getPool();
        return pool != null ? pool.getParallelism() : ForkJoinPool.getCommonPoolParallelism();
    }

    /**
     * Adds the tasks of one product to {@code tasks}; a product that is small (all of {@code work}
     * multiply-adds below {@link #SERIAL_WORK}) or runs on one thread is computed here and adds none.
     */
    private static void addTiles(List<RecursiveAction> tasks, float[] c, int cOff, float[] a, int aOff, float[] b,
                                 int bOff, int m, int n, int k, float beta, int ars, int acs, boolean transB,
                                 int threads, long work) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            for (int i = 0; i < m * n; i++) {
                c[cOff + i] = beta == 0f ? 0f : beta * c[cOff + i];
            }
            return;
        }
        if (threads() <= 1 || work < SERIAL_WORK) {
            tile(c, cOff, a, aOff, b, bOff, n, k, beta, ars, acs, transB, 0, m, 0, n);
            return;
        }
        // About `wanted` tiles of whole micro-blocks. Every tile packs its rows of A and its columns of
        // B, so packing costs rowTiles·k·n + colTiles·m·k: least when rowTiles/colTiles is near m/n.
        int wanted = TASKS_PER_THREAD * threads;
        int maxRowTiles = Math.ceilDiv(m, MR);
        int maxColTiles = Math.ceilDiv(n, NR);
        int rowTiles = (int) Math.clamp(Math.round(Math.sqrt((double) wanted * m / n)), 1, maxRowTiles);
        int colTiles = Math.clamp(Math.ceilDiv(wanted, rowTiles), 1, maxColTiles);
        rowTiles = Math.clamp(Math.ceilDiv(wanted, colTiles), rowTiles, maxRowTiles);
        int rowsPerTile = roundUp(Math.ceilDiv(m, rowTiles), MR);
        int colsPerTile = roundUp(Math.ceilDiv(n, colTiles), NR);
        for (int r0 = 0; r0 < m; r0 += rowsPerTile) {
            for (int c0 = 0; c0 < n; c0 += colsPerTile) {
                int rowFrom = r0;
                int rowTo = Math.min(m, r0 + rowsPerTile);
                int colFrom = c0;
                int colTo = Math.min(n, c0 + colsPerTile);
                tasks.add(new RecursiveAction() {
                    @Override
                    protected void compute() {
                        tile(c, cOff, a, aOff, b, bOff, n, k, beta, ars, acs, transB, rowFrom, rowTo, colFrom, colTo);
                    }
                });
            }
        }
    }

    private static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }

    /**
     * Per-thread packing buffers: an A block of MC x KC, and the B panels of a tile's columns for one
     * k slice (KC x NR each; grown to the widest tile seen).
     */
    private static final ThreadLocal<float[][]> SCRATCH =
            ThreadLocal.withInitial(() -> new float[][] {new float[MC * KC], new float[KC * NR]});

    /**
     * Rows {@code [r0, r1)} by columns {@code [c0, c1)} of C: for each k slice, the tile's columns of
     * B are packed once into panels ({@code [p][NR]} each), then for each block of at most
     * {@link #MC} rows A is packed into micro-panels ({@code [p][MR]} per {@value #MR} rows), so the
     * micro-kernels read both contiguously (BLIS order: B panels from L2/L3, the A block from L2).
     */
    private static void tile(float[] c, int cOff, float[] a, int aOff, float[] b, int bOff, int n, int k,
                             float beta, int ars, int acs, boolean transB, int r0, int r1, int c0, int c1) {
        float[][] scratch = SCRATCH.get();
        float[] ap = scratch[0];
        int panels = Math.ceilDiv(c1 - c0, NR);
        if (scratch[1].length < panels * KC * NR) {
            scratch[1] = new float[panels * KC * NR];
        }
        float[] bp = scratch[1];
        for (int p0 = 0; p0 < k; p0 += KC) {
            int p1 = Math.min(k, p0 + KC);
            int kc = p1 - p0;
            // The first slice starts from beta·C (or zero, C unread); later slices from C.
            boolean load = p0 > 0 || beta != 0f;
            float scale = p0 > 0 ? 1f : beta;
            for (int j = c0; j < c1; j += NR) {
                packB(b, bOff, n, k, transB, j, Math.min(NR, c1 - j), p0, p1, bp, (j - c0) / NR * kc * NR);
            }
            for (int rb = r0; rb < r1; rb += MC) {
                int re = Math.min(r1, rb + MC);
                packA(a, aOff, ars, acs, rb, re, p0, p1, ap);
                for (int j = c0; j < c1; j += NR) {
                    int w = Math.min(NR, c1 - j);
                    int bpOff = (j - c0) / NR * kc * NR;
                    for (int i = rb; i < re; i += MR) {
                        int rows = Math.min(MR, re - i);
                        int apOff = (i - rb) * kc;
                        if (rows == MR && w == NR) {
                            block4x2(c, ap, apOff, bp, bpOff, cOff + i * n + j, n, kc, load, scale);
                            continue;
                        }
                        for (int r = 0; r < rows; r++) {
                            int at = cOff + (i + r) * n + j;
                            int jj = 0;
                            for (; jj + VL <= w; jj += VL) {
                                row1(c, ap, apOff + r, bp, bpOff + jj, at + jj, kc, load, scale);
                            }
                            for (; jj < w; jj++) {
                                scalar(c, ap, apOff + r, bp, bpOff + jj, at + jj, kc, load, scale);
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code ap[(i - rb)·kc + (p - p0)·MR + r] = A[i + r][p]} for micro-panels of MR rows from rb. */
    private static void packA(float[] a, int aOff, int ars, int acs, int rb, int re, int p0, int p1, float[] ap) {
        int kc = p1 - p0;
        for (int i = rb; i < re; i += MR) {
            int rows = Math.min(MR, re - i);
            int base = (i - rb) * kc;
            if (acs == 1 && rows == MR) {
                // The block's rows read side by side, the panel written in order.
                int s0 = aOff + i * ars + p0;
                for (int q = 0; q < kc; q++) {
                    int d = base + q * MR;
                    int src = s0 + q;
                    ap[d] = a[src];
                    ap[d + 1] = a[src + ars];
                    ap[d + 2] = a[src + 2 * ars];
                    ap[d + 3] = a[src + 3 * ars];
                }
            } else if (acs == 1) {
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (i + r) * ars + p0;
                    for (int q = 0; q < kc; q++) {
                        ap[base + q * MR + r] = a[src + q];
                    }
                }
            } else {
                for (int q = 0; q < kc; q++) {
                    int src = aOff + i * ars + (p0 + q) * acs;
                    for (int r = 0; r < rows; r++) {
                        ap[base + q * MR + r] = a[src + r * ars];
                    }
                }
            }
        }
    }

    /** {@code bp[to + (p - p0)·NR + jj] = B[p][j + jj]} for {@code jj < w}, from B (k, n) or Bᵀ (n, k). */
    private static void packB(float[] b, int bOff, int n, int k, boolean transB, int j, int w, int p0, int p1, float[] bp,
                              int to) {
        int kc = p1 - p0;
        if (transB) {
            for (int jj = 0; jj < w; jj++) {
                int src = bOff + (j + jj) * k + p0;
                for (int q = 0; q < kc; q++) {
                    bp[to + q * NR + jj] = b[src + q];
                }
            }
        } else if (w == NR) {
            for (int q = 0; q < kc; q++) {
                int src = bOff + (p0 + q) * n + j;
                FloatVector.fromArray(S, b, src).intoArray(bp, to + q * NR);
                FloatVector.fromArray(S, b, src + VL).intoArray(bp, to + q * NR + VL);
            }
        } else {
            for (int q = 0; q < kc; q++) {
                System.arraycopy(b, bOff + (p0 + q) * n + j, bp, to + q * NR, w);
            }
        }
    }

    private static FloatVector start(float[] c, int at, boolean load, float scale) {
        return load ? FloatVector.fromArray(S, c, at).mul(scale) : FloatVector.zero(S);
    }

    /** C[4 rows from cOff][2·VL columns] += packed A micro-panel · packed B panel over kc. */
    private static void block4x2(float[] c, float[] ap, int aOff, float[] bp, int bOff, int cOff, int n, int kc,
                                 boolean load, float scale) {
        FloatVector c00 = start(c, cOff, load, scale);
        FloatVector c01 = start(c, cOff + VL, load, scale);
        FloatVector c10 = start(c, cOff + n, load, scale);
        FloatVector c11 = start(c, cOff + n + VL, load, scale);
        FloatVector c20 = start(c, cOff + 2 * n, load, scale);
        FloatVector c21 = start(c, cOff + 2 * n + VL, load, scale);
        FloatVector c30 = start(c, cOff + 3 * n, load, scale);
        FloatVector c31 = start(c, cOff + 3 * n + VL, load, scale);
        for (int q = 0; q < kc; q++) {
            int ai = aOff + q * MR;
            int bi = bOff + q * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + VL);
        c10.intoArray(c, cOff + n);
        c11.intoArray(c, cOff + n + VL);
        c20.intoArray(c, cOff + 2 * n);
        c21.intoArray(c, cOff + 2 * n + VL);
        c30.intoArray(c, cOff + 3 * n);
        c31.intoArray(c, cOff + 3 * n + VL);
    }

    /** One row, one vector: C[cOff..cOff+VL) += A row (stride MR from aOff) · B panel columns jj..jj+VL. */
    private static void row1(float[] c, float[] ap, int aOff, float[] bp, int jj, int cOff, int kc,
                             boolean load, float scale) {
        FloatVector acc = start(c, cOff, load, scale);
        for (int q = 0; q < kc; q++) {
            acc = FloatVector.broadcast(S, ap[aOff + q * MR]).fma(FloatVector.fromArray(S, bp, q * NR + jj), acc);
        }
        acc.intoArray(c, cOff);
    }

    /** One element, one FMA per p as in the vector lanes: C[cOff] += A row · B panel column jj. */
    private static void scalar(float[] c, float[] ap, int aOff, float[] bp, int jj, int cOff, int kc,
                               boolean load, float scale) {
        float acc = load ? c[cOff] * scale : 0f;
        for (int q = 0; q < kc; q++) {
            acc = Math.fma(ap[aOff + q * MR], bp[q * NR + jj], acc);
        }
        c[cOff] = acc;
    }
}
