package org.moe4j.kernels.lib;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntFunction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.moe4j.kernels.CpuInfo;
import org.moe4j.kernels.JvmDevice;

/**
 * Vector-API overrides of {@link Gemm}'s kernels, with the same parameters less the
 * {@code KernelContext}.
 *
 * <p>BLIS-style: one register-blocked micro-kernel does all three products. It keeps an
 * {@code mr x nr} block of C in registers and, for each p of a {@code kc}-long slice of k,
 * broadcasts one A value per row and FMAs it into the B vectors of one row of a packed panel. For
 * each slice, B is packed once into {@code kc x nr} panels that every thread shares, and each
 * task packs its block of A into {@code mr}-row micro-panels, reading A or Aᵀ, B or Bᵀ as the
 * variant says, so the micro-kernel reads both contiguously and the three variants share it.
 * Panels are padded with zeros to whole blocks; a block at the edge of C is computed into a small
 * buffer and copied out. The blocking comes from the machine ({@link GemmBlocking}).
 *
 * <p>Each element of C is one chain of FMAs, p from 0 to k, starting from {@code beta·C} (or 0,
 * C unread): the same bits whatever the blocking, the number of threads or the machine. The GELU
 * expert's two fused products apply a {@link GemmEpilogue} to each block right after its last k
 * slice, while the block is in L1.
 */
public final class GemmSimd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** The blocking of this machine. */
    static final GemmBlocking MACHINE = GemmBlocking.of(CpuInfo.current());
    /** Compute tasks per pool thread in a product that is split: enough to even out the threads. */
    private static final int TASKS_PER_THREAD = 2;
    /** Below this many multiply-adds a product runs on the calling thread. */
    private static final long SERIAL_WORK = 1L << 18;
    /** A transposed B is packed in runs of this many p, so that the rows of the panel it writes stay in L1. */
    private static final int TRANSPOSE_RUN = 16;

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
        device.override(BatchedGemm::matmulBiasGelu, GemmSimd::matmulBiasGeluBatched);
        device.override(BatchedGemm::matmulTransBGeluBackward, GemmSimd::matmulTransBGeluBackwardBatched);
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
        run(MACHINE, new Product(c, 0, a, 0, b, 0, m, n, k, beta, k, 1, false, null));
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
        run(MACHINE, new Product(c, 0, a, 0, b, 0, m, n, k, beta, k, 1, true, null));
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
        run(MACHINE, new Product(c, 0, a, 0, b, 0, m, n, k, beta, 1, m, false, null));
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
        runBatched(MACHINE, c, a, b, batch, m, n, k, beta, k, 1, false, null);
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
        runBatched(MACHINE, c, a, b, batch, m, n, k, beta, k, 1, true, null);
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
        runBatched(MACHINE, c, a, b, batch, m, n, k, beta, 1, m, false, null);
    }

    /**
     * {@link BatchedGemm#matmulBiasGelu}: {@link #matmulBatched} into {@code pre}, each block then
     * given its bias and GELU while in L1 ({@link GemmEpilogue.BiasGelu}).
     *
     * @param pre  (batch, m, n). Written
     * @param h    (batch, m, n). Written
     * @param a    (batch, m, k). Not modified
     * @param b    (batch, k, n). Not modified
     * @param bias (batch, n). Not modified
     */
    public static void matmulBiasGeluBatched(float[] pre, float[] h, float[] a, float[] b, float[] bias, int batch,
                                             int m, int n, int k) {
        String op = "matmulBiasGeluBatched";
        checkShapes(op, pre, a, b, batch, m, n, k);
        check(op, "h", h, (long) batch * m * n);
        check(op, "bias", bias, (long) batch * n);
        if (h == pre || h == a || h == b) {
            throw new IllegalArgumentException(op + ": h must not alias pre, a or b");
        }
        runBatched(MACHINE, pre, a, b, batch, m, n, k, 0f, k, 1, false, e -> new GemmEpilogue.BiasGelu(h, bias, e * n));
    }

    /**
     * {@link BatchedGemm#matmulTransBGeluBackward}: {@link #matmulTransBBatched} into {@code dpre},
     * each block then multiplied by {@code gelu'(pre)} while in L1 ({@link GemmEpilogue.GeluSlope}).
     *
     * @param dpre (batch, m, n). Written
     * @param dout (batch, m, k). Not modified
     * @param b    (batch, n, k). Not modified
     * @param pre  (batch, m, n). Not modified
     */
    public static void matmulTransBGeluBackwardBatched(float[] dpre, float[] dout, float[] b, float[] pre, int batch,
                                                       int m, int n, int k) {
        String op = "matmulTransBGeluBackwardBatched";
        checkShapes(op, dpre, dout, b, batch, m, n, k);
        check(op, "pre", pre, (long) batch * m * n);
        if (pre == dpre) {
            throw new IllegalArgumentException(op + ": dpre must not alias pre");
        }
        GemmEpilogue slope = new GemmEpilogue.GeluSlope(pre);
        runBatched(MACHINE, dpre, dout, b, batch, m, n, k, 0f, k, 1, true, e -> slope);
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
     * One product {@code C = A·B + beta·C}: A element (i, p) at {@code a[aOff + i·ars + p·acs]}, B
     * (k, n) or, when {@code transB}, (n, k), C (m, n) from {@code cOff}; {@code epilogue}, where
     * not null, is applied to each block of C once it is complete.
     */
    record Product(float[] c, int cOff, float[] a, int aOff, float[] b, int bOff, int m, int n, int k, float beta,
                   int ars, int acs, boolean transB, GemmEpilogue epilogue) {
    }

    /** {@code p} with {@code blocking}, on the calling fork/join pool. */
    static void run(GemmBlocking blocking, Product p) {
        if (!startFromBetaC(p)) {
            return;
        }
        int threads = threads();
        if (threads <= 1 || (long) p.m() * p.n() * p.k() < SERIAL_WORK) {
            serial(blocking, p);
        } else {
            parallel(blocking, p, threads);
        }
    }

    /**
     * Brings C to the {@code beta·C} the FMA chains start from when that is neither C nor 0, and does
     * the whole product when nothing is left to multiply.
     *
     * @return whether the product still has multiply-adds to do
     */
    private static boolean startFromBetaC(Product p) {
        if (p.m() == 0 || p.n() == 0) {
            return false;
        }
        if (p.k() == 0) {
            scale(p.c(), p.cOff(), p.m() * p.n(), p.beta());
            return false;
        }
        if (p.beta() != 0f && p.beta() != 1f) {
            scale(p.c(), p.cOff(), p.m() * p.n(), p.beta());
        }
        return true;
    }

    /**
     * All {@code batch} products. With at least as many products as threads each product is one task
     * (it packs its own B); with fewer, the products run one after another, each split.
     *
     * <p>Trailing rows of zeros are not multiplied: an MoE layer's expert buffers {@code (E,C,·)} keep
     * each expert's tokens in its first slots and zeros in the unused ones (and zero gradients there
     * in the backward pass), so the padding would otherwise cost as much as real tokens. With
     * A (m,k): rows of A from the last non-zero one on give rows of C equal to {@code beta·C}. With
     * Aᵀ (A stored (k,m), B (k,n)): the sum over p stops after the last p whose rows of A and B are
     * both non-zero. Either way the skipped terms are products with 0, which the portable kernel adds
     * as ±0 without changing the sum, so the results are the same (for finite B, resp. finite A and B:
     * a NaN or infinity times 0 would have made NaN there). The epilogue of matrix e,
     * {@code epilogues.apply(e)} (none when {@code epilogues} is null), is applied to the rows not
     * multiplied as well.
     */
    static void runBatched(GemmBlocking blocking, float[] c, float[] a, float[] b, int batch, int m, int n, int k,
                           float beta, int ars, int acs, boolean transB, IntFunction<GemmEpilogue> epilogues) {
        boolean transA = acs != 1;
        List<Product> products = new ArrayList<>();
        long work = 0;
        for (int e = 0; e < batch; e++) {
            int aOff = e * m * k;
            int bOff = e * k * n;
            int cOff = e * m * n;
            int rows = m;
            int depth = k;
            GemmEpilogue epilogue = epilogues == null ? null : epilogues.apply(e);
            if (transA) {
                depth = Math.min(usedRows(a, aOff, k, m), usedRows(b, bOff, k, n));
            } else {
                rows = usedRows(a, aOff, m, k);
                scale(c, cOff + rows * n, (m - rows) * n, beta);
                if (epilogue != null) {
                    epilogue.apply(c, cOff + rows * n, m - rows, n, 0, n);
                }
            }
            Product p = new Product(c, cOff, a, aOff, b, bOff, rows, n, depth, beta, ars, acs, transB, epilogue);
            if (startFromBetaC(p)) {
                products.add(p);
                work += (long) rows * n * depth;
            } else if (epilogue != null) {
                epilogue.apply(c, cOff, rows, n, 0, n);
            }
        }
        int threads = threads();
        if (threads > 1 && products.size() >= threads && work >= SERIAL_WORK) {
            List<RecursiveAction> tasks = new ArrayList<>();
            for (Product p : products) {
                tasks.add(task(() -> serial(blocking, p)));
            }
            ForkJoinTask.invokeAll(tasks);
            return;
        }
        for (Product p : products) {
            if (threads <= 1 || (long) p.m() * p.n() * p.k() < SERIAL_WORK) {
                serial(blocking, p);
            } else {
                parallel(blocking, p, threads);
            }
        }
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

    /** {@code c[from..from+count) = beta·c}, C unread when beta is 0. */
    private static void scale(float[] c, int from, int count, float beta) {
        if (beta == 1f) {
            return;
        }
        if (beta == 0f) {
            Arrays.fill(c, from, from + count, 0f);
            return;
        }
        for (int i = from; i < from + count; i++) {
            c[i] = beta * c[i];
        }
    }

    private static int threads() {
        ForkJoinPool pool = ForkJoinTask.getPool();
        return pool != null ? pool.getParallelism() : ForkJoinPool.getCommonPoolParallelism();
    }

    private static RecursiveAction task(Runnable work) {
        return new RecursiveAction() {
            @Override
            protected void compute() {
                work.run();
            }
        };
    }

    /** The whole product on this thread, with this thread's B panels. */
    private static void serial(GemmBlocking g, Product p) {
        int panels = Math.ceilDiv(p.n(), nr(g));
        float[] bp = OWN_B.get().atLeast(Math.min(g.kc(), p.k()) * panels * nr(g));
        for (int p0 = 0; p0 < p.k(); p0 += g.kc()) {
            int p1 = Math.min(p.k(), p0 + g.kc());
            packB(g, p, 0, panels, p0, p1, bp);
            compute(g, p, p0, p1, bp, 0, p.m(), 0, panels);
        }
    }

    /**
     * The product split over the pool: for each k slice, the B panels are packed by all threads
     * into one buffer, then tasks of whole row blocks (and, when C has few rows, of column ranges)
     * multiply. A task's rows are a multiple of {@code mr} and its columns of {@code nr}, so the
     * tasks' blocks are the blocks one thread would compute.
     */
    private static void parallel(GemmBlocking g, Product p, int threads) {
        int nr = nr(g);
        int panels = Math.ceilDiv(p.n(), nr);
        int wanted = TASKS_PER_THREAD * threads;
        int rowParts = Math.min(Math.ceilDiv(p.m(), g.mr()), wanted);
        int colParts = Math.min(panels, Math.ceilDiv(wanted, rowParts));
        int rowsPerPart = roundUp(Math.ceilDiv(p.m(), rowParts), g.mr());
        int panelsPerPart = Math.ceilDiv(panels, colParts);
        int packParts = Math.min(panels, threads);
        int panelsPerPack = Math.ceilDiv(panels, packParts);
        float[] bp = SHARED_B.get().atLeast(Math.min(g.kc(), p.k()) * panels * nr);
        for (int p0 = 0; p0 < p.k(); p0 += g.kc()) {
            int from = p0;
            int to = Math.min(p.k(), p0 + g.kc());
            List<RecursiveAction> packs = new ArrayList<>();
            for (int q = 0; q < panels; q += panelsPerPack) {
                int first = q;
                int last = Math.min(panels, q + panelsPerPack);
                packs.add(task(() -> packB(g, p, first, last, from, to, bp)));
            }
            ForkJoinTask.invokeAll(packs);
            List<RecursiveAction> parts = new ArrayList<>();
            for (int r0 = 0; r0 < p.m(); r0 += rowsPerPart) {
                for (int q0 = 0; q0 < panels; q0 += panelsPerPart) {
                    int rowFrom = r0;
                    int rowTo = Math.min(p.m(), r0 + rowsPerPart);
                    int first = q0;
                    int last = Math.min(panels, q0 + panelsPerPart);
                    parts.add(task(() -> compute(g, p, from, to, bp, rowFrom, rowTo, first, last)));
                }
            }
            ForkJoinTask.invokeAll(parts);
        }
    }

    private static int nr(GemmBlocking g) {
        return g.nrVectors() * VL;
    }

    private static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }

    /** A per-thread buffer that grows to the largest size asked for. */
    private static final class Scratch {
        private float[] data = new float[0];

        float[] atLeast(int size) {
            if (data.length < size) {
                data = new float[size];
            }
            return data;
        }
    }

    /** The A block of a task; the B panels of a product on one thread; those a split product shares; an edge block. */
    private static final ThreadLocal<Scratch> OWN_A = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<Scratch> OWN_B = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<Scratch> SHARED_B = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<Scratch> EDGE = ThreadLocal.withInitial(Scratch::new);

    /**
     * Rows {@code [r0, r1)} by B panels {@code [pa, pb)} of C for the slice {@code [p0, p1)}: for each
     * block of at most {@code mc} rows, A is packed into micro-panels ({@code [p][mr]} each), then
     * every micro-panel meets every B panel (the panel from L2, the micro-panel from L1).
     */
    private static void compute(GemmBlocking g, Product p, int p0, int p1, float[] bp, int r0, int r1, int pa, int pb) {
        int kc = p1 - p0;
        int mr = g.mr();
        int nr = nr(g);
        int n = p.n();
        boolean load = p0 > 0 || p.beta() != 0f;
        GemmEpilogue epilogue = p1 == p.k() ? p.epilogue() : null;
        float[] ap = OWN_A.get().atLeast(g.mc() * kc);
        for (int rb = r0; rb < r1; rb += g.mc()) {
            int re = Math.min(r1, rb + g.mc());
            packA(mr, p, rb, re, p0, p1, ap);
            for (int panel = pa; panel < pb; panel++) {
                int j = panel * nr;
                int w = Math.min(nr, n - j);
                int bpOff = panel * kc * nr;
                for (int i = rb; i < re; i += mr) {
                    int rows = Math.min(mr, re - i);
                    int apOff = (i - rb) * kc;
                    if (rows == mr && w == nr) {
                        block(g, p.c(), p.cOff() + i * n + j, n, ap, apOff, bp, bpOff, kc, load);
                    } else {
                        edge(g, p, i, rows, j, w, ap, apOff, bp, bpOff, kc, load);
                    }
                    if (epilogue != null) {
                        epilogue.apply(p.c(), p.cOff() + i * n + j, rows, n, j, w);
                    }
                }
            }
        }
    }

    /** A block of C with fewer than {@code mr} rows or {@code nr} columns, through a whole block's buffer. */
    private static void edge(GemmBlocking g, Product p, int i, int rows, int j, int w, float[] ap, int apOff, float[] bp,
                             int bpOff, int kc, boolean load) {
        int nr = nr(g);
        float[] tile = EDGE.get().atLeast(g.mr() * nr);
        int at = p.cOff() + i * p.n() + j;
        if (load) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(p.c(), at + r * p.n(), tile, r * nr, w);
            }
        }
        block(g, tile, 0, nr, ap, apOff, bp, bpOff, kc, load);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(tile, r * nr, p.c(), at + r * p.n(), w);
        }
    }

    private static void block(GemmBlocking g, float[] c, int cOff, int n, float[] ap, int apOff, float[] bp, int bpOff,
                              int kc, boolean load) {
        if (g.mr() == 6) {
            block6x4(c, cOff, n, ap, apOff, bp, bpOff, kc, load);
        } else {
            block4x2(c, cOff, n, ap, apOff, bp, bpOff, kc, load);
        }
    }

    /**
     * {@code ap[(i - rb)·kc + (p - p0)·mr + r] = A[i + r][p]} for the micro-panels of {@code mr} rows
     * from {@code rb}, rows past {@code re} zero.
     */
    private static void packA(int mr, Product p, int rb, int re, int p0, int p1, float[] ap) {
        int kc = p1 - p0;
        float[] a = p.a();
        int ars = p.ars();
        int acs = p.acs();
        if (acs == 1) {
            for (int i = rb; i < re; i += mr) {
                int base = (i - rb) * kc;
                int rows = Math.min(mr, re - i);
                int src = p.aOff() + i * ars + p0;
                if (rows == 6) {
                    // The micro-panel's rows read side by side, the panel written in order.
                    for (int q = 0; q < kc; q++) {
                        int to = base + q * 6;
                        int from = src + q;
                        ap[to] = a[from];
                        ap[to + 1] = a[from + ars];
                        ap[to + 2] = a[from + 2 * ars];
                        ap[to + 3] = a[from + 3 * ars];
                        ap[to + 4] = a[from + 4 * ars];
                        ap[to + 5] = a[from + 5 * ars];
                    }
                    continue;
                }
                for (int q = 0; q < kc; q++) {
                    for (int r = 0; r < mr; r++) {
                        ap[base + q * mr + r] = r < rows ? a[src + r * ars + q] : 0f;
                    }
                }
            }
            return;
        }
        // Aᵀ stored (k, m): row p of the storage holds A[·][p], read along it.
        for (int q = 0; q < kc; q++) {
            int src = p.aOff() + (p0 + q) * acs;
            for (int i = rb; i < re; i += mr) {
                int to = (i - rb) * kc + q * mr;
                int rows = Math.min(mr, re - i);
                if (rows == 6 && ars == 1) {
                    int from = src + i;
                    ap[to] = a[from];
                    ap[to + 1] = a[from + 1];
                    ap[to + 2] = a[from + 2];
                    ap[to + 3] = a[from + 3];
                    ap[to + 4] = a[from + 4];
                    ap[to + 5] = a[from + 5];
                    continue;
                }
                for (int r = 0; r < mr; r++) {
                    ap[to + r] = r < rows ? a[src + (i + r) * ars] : 0f;
                }
            }
        }
    }

    /**
     * B panels {@code [first, last)} of the slice {@code [p0, p1)}:
     * {@code bp[panel·kc·nr + (p - p0)·nr + jj] = B[p][panel·nr + jj]}, columns past n zero.
     */
    private static void packB(GemmBlocking g, Product p, int first, int last, int p0, int p1, float[] bp) {
        int kc = p1 - p0;
        int nr = nr(g);
        int n = p.n();
        float[] b = p.b();
        if (!p.transB()) {
            // Along the rows of B, which are contiguous; each row fills one row of every panel.
            for (int q = 0; q < kc; q++) {
                int src = p.bOff() + (p0 + q) * n;
                for (int panel = first; panel < last; panel++) {
                    int j = panel * nr;
                    int w = Math.min(nr, n - j);
                    int to = panel * kc * nr + q * nr;
                    if (w == nr) {
                        for (int v = 0; v < nr; v += VL) {
                            FloatVector.fromArray(S, b, src + j + v).intoArray(bp, to + v);
                        }
                    } else {
                        System.arraycopy(b, src + j, bp, to, w);
                        Arrays.fill(bp, to + w, to + nr, 0f);
                    }
                }
            }
            return;
        }
        // Bᵀ stored (n, k): along its rows, in runs of p short enough for the panel rows written to stay in L1.
        for (int panel = first; panel < last; panel++) {
            int j = panel * nr;
            int w = Math.min(nr, n - j);
            int to = panel * kc * nr;
            for (int q0 = 0; q0 < kc; q0 += TRANSPOSE_RUN) {
                int q1 = Math.min(kc, q0 + TRANSPOSE_RUN);
                for (int jj = 0; jj < w; jj++) {
                    int src = p.bOff() + (j + jj) * p.k() + p0;
                    for (int q = q0, d = to + q0 * nr + jj; q < q1; q++, d += nr) {
                        bp[d] = b[src + q];
                    }
                }
                for (int q = q0; q < q1; q++) {
                    Arrays.fill(bp, to + q * nr + w, to + (q + 1) * nr, 0f);
                }
            }
        }
    }

    /**
     * C[4 rows from cOff][2 vectors] = (load ? C : 0) + packed A micro-panel · packed B panel over kc.
     * The accumulators start as loads or zeros directly: any call between them and the loop made the
     * JIT give up inlining part of the larger 6 x 4 block, and then every vector was an object.
     */
    private static void block4x2(float[] c, int cOff, int n, float[] ap, int aOff, float[] bp, int bOff, int kc,
                                 boolean load) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = load ? FloatVector.fromArray(S, c, cOff) : z;
        FloatVector c01 = load ? FloatVector.fromArray(S, c, cOff + VL) : z;
        FloatVector c10 = load ? FloatVector.fromArray(S, c, cOff + n) : z;
        FloatVector c11 = load ? FloatVector.fromArray(S, c, cOff + n + VL) : z;
        FloatVector c20 = load ? FloatVector.fromArray(S, c, cOff + 2 * n) : z;
        FloatVector c21 = load ? FloatVector.fromArray(S, c, cOff + 2 * n + VL) : z;
        FloatVector c30 = load ? FloatVector.fromArray(S, c, cOff + 3 * n) : z;
        FloatVector c31 = load ? FloatVector.fromArray(S, c, cOff + 3 * n + VL) : z;
        for (int q = 0; q < kc; q++) {
            int ai = aOff + q * 4;
            int bi = bOff + q * 2 * VL;
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

    /** C[6 rows from cOff][4 vectors] = (load ? C : 0) + packed A micro-panel · packed B panel over kc. */
    private static void block6x4(float[] c, int cOff, int n, float[] ap, int aOff, float[] bp, int bOff, int kc,
                                 boolean load) {
        FloatVector z = FloatVector.zero(S);
        int r1 = cOff + n;
        int r2 = cOff + 2 * n;
        int r3 = cOff + 3 * n;
        int r4 = cOff + 4 * n;
        int r5 = cOff + 5 * n;
        FloatVector c00 = load ? FloatVector.fromArray(S, c, cOff) : z;
        FloatVector c01 = load ? FloatVector.fromArray(S, c, cOff + VL) : z;
        FloatVector c02 = load ? FloatVector.fromArray(S, c, cOff + 2 * VL) : z;
        FloatVector c03 = load ? FloatVector.fromArray(S, c, cOff + 3 * VL) : z;
        FloatVector c10 = load ? FloatVector.fromArray(S, c, r1) : z;
        FloatVector c11 = load ? FloatVector.fromArray(S, c, r1 + VL) : z;
        FloatVector c12 = load ? FloatVector.fromArray(S, c, r1 + 2 * VL) : z;
        FloatVector c13 = load ? FloatVector.fromArray(S, c, r1 + 3 * VL) : z;
        FloatVector c20 = load ? FloatVector.fromArray(S, c, r2) : z;
        FloatVector c21 = load ? FloatVector.fromArray(S, c, r2 + VL) : z;
        FloatVector c22 = load ? FloatVector.fromArray(S, c, r2 + 2 * VL) : z;
        FloatVector c23 = load ? FloatVector.fromArray(S, c, r2 + 3 * VL) : z;
        FloatVector c30 = load ? FloatVector.fromArray(S, c, r3) : z;
        FloatVector c31 = load ? FloatVector.fromArray(S, c, r3 + VL) : z;
        FloatVector c32 = load ? FloatVector.fromArray(S, c, r3 + 2 * VL) : z;
        FloatVector c33 = load ? FloatVector.fromArray(S, c, r3 + 3 * VL) : z;
        FloatVector c40 = load ? FloatVector.fromArray(S, c, r4) : z;
        FloatVector c41 = load ? FloatVector.fromArray(S, c, r4 + VL) : z;
        FloatVector c42 = load ? FloatVector.fromArray(S, c, r4 + 2 * VL) : z;
        FloatVector c43 = load ? FloatVector.fromArray(S, c, r4 + 3 * VL) : z;
        FloatVector c50 = load ? FloatVector.fromArray(S, c, r5) : z;
        FloatVector c51 = load ? FloatVector.fromArray(S, c, r5 + VL) : z;
        FloatVector c52 = load ? FloatVector.fromArray(S, c, r5 + 2 * VL) : z;
        FloatVector c53 = load ? FloatVector.fromArray(S, c, r5 + 3 * VL) : z;
        for (int q = 0; q < kc; q++) {
            int ai = aOff + q * 6;
            int bi = bOff + q * 4 * VL;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * VL);
            FloatVector b3 = FloatVector.fromArray(S, bp, bi + 3 * VL);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            c03 = av.fma(b3, c03);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            c13 = av.fma(b3, c13);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            c23 = av.fma(b3, c23);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            c33 = av.fma(b3, c33);
            av = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
            c43 = av.fma(b3, c43);
            av = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            c52 = av.fma(b2, c52);
            c53 = av.fma(b3, c53);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + VL);
        c02.intoArray(c, cOff + 2 * VL);
        c03.intoArray(c, cOff + 3 * VL);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + VL);
        c12.intoArray(c, r1 + 2 * VL);
        c13.intoArray(c, r1 + 3 * VL);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + VL);
        c22.intoArray(c, r2 + 2 * VL);
        c23.intoArray(c, r2 + 3 * VL);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + VL);
        c32.intoArray(c, r3 + 2 * VL);
        c33.intoArray(c, r3 + 3 * VL);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + VL);
        c42.intoArray(c, r4 + 2 * VL);
        c43.intoArray(c, r4 + 3 * VL);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + VL);
        c52.intoArray(c, r5 + 2 * VL);
        c53.intoArray(c, r5 + 3 * VL);
    }
}
