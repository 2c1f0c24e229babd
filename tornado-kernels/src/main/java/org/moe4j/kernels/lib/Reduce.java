package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Deterministic sums of a float array. Two ways, both with a fixed order of additions so the
 * result does not depend on the schedule or the device:
 *
 * <ul>
 *   <li>chunked: {@link #sumPartials} / {@link #sumOfSquaresPartials} let work-item {@code p} sum
 *       the fixed chunk {@code x[p·chunk .. (p+1)·chunk)} in order into {@code partials[p]}; then
 *       {@link #sumFinal} (one work-item) or the host adds the partials in index order;</li>
 *   <li>work-group tree: {@link #sumWorkGroup} loads one element per work-item into local memory
 *       and halves it with barriers, one partial per work-group.</li>
 * </ul>
 */
public final class Reduce {
    /** Elements per work-item of the chunked kernels, unless a caller picks another. */
    public static final int CHUNK = 256;
    /** Work-group size of {@link #sumWorkGroup}: its local array holds this many floats. */
    public static final int GROUP = 256;

    private Reduce() {
    }

    /** Number of partials the chunked kernels write for {@code n} elements. */
    public static int partialCount(int n, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        }
        return Math.ceilDiv(n, chunk);
    }

    /** One work-item per chunk: {@link #sumPartials}, {@link #sumOfSquaresPartials}. */
    public static Grid gridPartials(int n, int chunk) {
        return Grid.of(partialCount(n, chunk));
    }

    /** A single work-item: {@link #sumFinal}. */
    public static Grid gridFinal() {
        return Grid.of(1, 1);
    }

    /** Work-groups of {@link #GROUP} work-items, one per element: {@link #sumWorkGroup}. */
    public static Grid gridWorkGroup(int n) {
        return Grid.of(n, GROUP);
    }

    /** Number of partials {@link #sumWorkGroup} writes for {@code n} elements. */
    public static int workGroupCount(int n) {
        return Math.ceilDiv(n, GROUP);
    }

    /**
     * One work-item sums its chunk {@code p} in order: {@code partials[p] = Σ x[p·chunk .. min(n, (p+1)·chunk))}.
     *
     * <pre>
     * partials (ceil(N/chunk))  written
     * x        (N)
     * </pre>
     */
    public static void sumPartials(KernelContext ctx, float[] partials, float[] x, int n, int chunk) {
        int p = ctx.globalIdx;
        int from = p * chunk;
        if (from >= n) {
            return;
        }
        int to = Math.min(n, from + chunk);
        float sum = 0f;
        for (int i = from; i < to; i++) {
            sum += x[i];
        }
        partials[p] = sum;
    }

    /**
     * One work-item sums the squares of its chunk {@code p} in order:
     * {@code partials[p] = Σ x[i]²} over {@code [p·chunk, min(n, (p+1)·chunk))}.
     *
     * <pre>
     * partials (ceil(N/chunk))  written
     * x        (N)
     * </pre>
     */
    public static void sumOfSquaresPartials(KernelContext ctx, float[] partials, float[] x, int n, int chunk) {
        int p = ctx.globalIdx;
        int from = p * chunk;
        if (from >= n) {
            return;
        }
        int to = Math.min(n, from + chunk);
        float sum = 0f;
        for (int i = from; i < to; i++) {
            sum += x[i] * x[i];
        }
        partials[p] = sum;
    }

    /**
     * The single work-item adds the partials in index order and scales the total:
     * {@code out[0] = s · Σ_p partials[p]}.
     *
     * <pre>
     * out      (1)  written
     * partials (P)
     * </pre>
     */
    public static void sumFinal(KernelContext ctx, float[] out, float[] partials, int p, float s) {
        if (ctx.globalIdx != 0) {
            return;
        }
        float sum = 0f;
        for (int i = 0; i < p; i++) {
            sum += partials[i];
        }
        out[0] = sum * s;
    }

    /**
     * Work-group tree reduction: every work-item loads {@code x[globalIdx]} (0 past {@code n}) into
     * a local array, then the work-group halves it with a barrier between steps; work-item 0 of
     * group {@code g} writes {@code partials[g]}. The work-group size must be a power of two no
     * larger than {@link #GROUP} (see {@link #gridWorkGroup}). No work-item returns early: every
     * one must reach every barrier.
     *
     * <pre>
     * partials (ceil(N/GROUP))  written
     * x        (N)
     * </pre>
     */
    public static void sumWorkGroup(KernelContext ctx, float[] partials, float[] x, int n) {
        float[] local = ctx.allocateFloatLocalArray(GROUP);
        int i = ctx.globalIdx;
        int l = ctx.localIdx;
        local[l] = i < n ? x[i] : 0f;
        ctx.localBarrier();
        for (int stride = ctx.localGroupSizeX / 2; stride > 0; stride = stride / 2) {
            if (l < stride) {
                local[l] += local[l + stride];
            }
            ctx.localBarrier();
        }
        if (l == 0) {
            partials[ctx.groupIdx] = local[0];
        }
    }
}
