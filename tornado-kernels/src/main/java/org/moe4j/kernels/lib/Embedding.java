package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Row lookup in a table and its scatter-add gradient. Ids must lie in {@code [0, V)}; callers
 * check them on the host, where the values are known.
 */
public final class Embedding {
    private Embedding() {
    }

    /** One work-item per output element: {@link #embeddingForward}. */
    public static Grid grid(int n, int d) {
        return Grid.of(n * d);
    }

    /** One work-item per column: {@link #embeddingBackward}. */
    public static Grid gridBackward(int d) {
        return Grid.of(d);
    }

    /**
     * One work-item copies one element: {@code out[i,k] = table[ids[i],k]}.
     *
     * <pre>
     * out   (N,D)  written
     * table (V,D)
     * ids   (N)    in [0, V)
     * </pre>
     */
    public static void embeddingForward(KernelContext ctx, float[] out, float[] table, int[] ids, int n, int d) {
        int idx = ctx.globalIdx;
        if (idx >= n * d) {
            return;
        }
        int i = idx / d;
        int k = idx - i * d;
        out[idx] = table[ids[i] * d + k];
    }

    /**
     * One work-item owns one column {@code k} of the table gradient and walks the rows in order,
     * {@code dtable[ids[i],k] += dout[i,k]}: repeated ids add up in a fixed order and no two
     * work-items touch the same element.
     *
     * <pre>
     * dtable (V,D)  accumulated
     * dout   (N,D)
     * ids    (N)    in [0, V)
     * </pre>
     */
    public static void embeddingBackward(KernelContext ctx, float[] dtable, float[] dout, int[] ids, int n, int d) {
        int k = ctx.globalIdx;
        if (k >= d) {
            return;
        }
        for (int i = 0; i < n; i++) {
            dtable[ids[i] * d + k] += dout[i * d + k];
        }
    }
}
