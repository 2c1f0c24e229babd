package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/** Adding a bias vector to every row, and its gradient. */
public final class Bias {
    private Bias() {
    }

    /** One work-item per element of {@code out}: {@link #addBias}. */
    public static Grid grid(int n, int o) {
        return Grid.of(n * o);
    }

    /** One work-item per column: {@link #biasBackward}. */
    public static Grid gridBackward(int o) {
        return Grid.of(o);
    }

    /**
     * One work-item adds {@code bias[j]} to one element {@code out[i,j]}.
     *
     * <pre>
     * out  (N,O)  modified: out[i,j] += bias[j]
     * bias (O)
     * </pre>
     */
    public static void addBias(KernelContext ctx, float[] out, float[] bias, int n, int o) {
        int idx = ctx.globalIdx;
        if (idx >= n * o) {
            return;
        }
        out[idx] += bias[idx % o];
    }

    /**
     * One work-item sums one column {@code j} of {@code dout} over the rows in order and adds it to
     * {@code dbias[j]}, so the result does not depend on the schedule.
     *
     * <pre>
     * dbias (O)    accumulated: dbias[j] += sum_i dout[i,j]
     * dout  (N,O)
     * </pre>
     */
    public static void biasBackward(KernelContext ctx, float[] dbias, float[] dout, int n, int o) {
        int j = ctx.globalIdx;
        if (j >= o) {
            return;
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += dout[i * o + j];
        }
        dbias[j] += sum;
    }
    /** One work-item per element of {@code out (batch, rows, o)}: {@link #addBiasBatched}. */
    public static Grid gridBatched(int batch, int rows, int o) {
        return Grid.of(batch * rows * o);
    }

    /** One work-item per (batch, column): {@link #biasBackwardBatched}. */
    public static Grid gridBackwardBatched(int batch, int o) {
        return Grid.of(batch * o);
    }

    /**
     * One work-item adds {@code bias[e,c]} to {@code out[e,r,c]}: a bias per matrix of a batch
     * (per expert).
     *
     * <pre>
     * out  (batch,rows,O)  modified
     * bias (batch,O)
     * </pre>
     */
    public static void addBiasBatched(KernelContext ctx, float[] out, float[] bias, int batch, int rows, int o) {
        int idx = ctx.globalIdx;
        if (idx >= batch * rows * o) {
            return;
        }
        int e = idx / (rows * o);
        out[idx] += bias[e * o + idx % o];
    }

    /**
     * One work-item adds the gradient of {@code bias[e,c]}: the sum of {@code dout[e,r,c]} over rows
     * in order.
     *
     * <pre>
     * dbias (batch,O)       accumulated
     * dout  (batch,rows,O)
     * </pre>
     */
    public static void biasBackwardBatched(KernelContext ctx, float[] dbias, float[] dout, int batch, int rows, int o) {
        int idx = ctx.globalIdx;
        if (idx >= batch * o) {
            return;
        }
        int e = idx / o;
        int c = idx - e * o;
        float sum = 0f;
        for (int r = 0; r < rows; r++) {
            sum += dout[(e * rows + r) * o + c];
        }
        dbias[idx] += sum;
    }
}
