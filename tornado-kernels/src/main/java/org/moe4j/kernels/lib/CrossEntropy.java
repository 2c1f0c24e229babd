package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Per-row cross-entropy of logits against integer targets,
 * {@code loss[i] = logsumexp(logits[i,:]) − logits[i,target[i]]}, and its gradient. A negative
 * target marks a row to ignore (padding): its loss and gradient are zero. One work-item per row;
 * the row maximum is subtracted before exponentiating, so logits of 1e4 do not overflow.
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /** One work-item per row. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /**
     * One work-item computes the loss of one row {@code i}.
     *
     * <pre>
     * losses  (N)    written; 0 where targets[i] &lt; 0
     * logits  (N,V)
     * targets (N)    in [0, V), or negative to ignore
     * </pre>
     */
    public static void crossEntropyForward(KernelContext ctx, float[] losses, float[] logits, int[] targets,
            int n, int v) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int target = targets[i];
        if (target < 0) {
            losses[i] = 0f;
            return;
        }
        int row = i * v;
        float max = rowMax(logits, row, v);
        float sum = 0f;
        for (int j = 0; j < v; j++) {
            sum += (float) Math.exp(logits[row + j] - max);
        }
        losses[i] = (float) Math.log(sum) - (logits[row + target] - max);
    }

    /**
     * One work-item adds the gradient of one row {@code i}:
     * {@code dlogits[i,v] += (softmax(logits[i,:])[v] − [v == target[i]]) · dlosses[i]}; nothing for
     * an ignored row.
     *
     * <pre>
     * dlogits (N,V)  accumulated
     * dlosses (N)
     * logits  (N,V)
     * targets (N)    in [0, V), or negative to ignore
     * </pre>
     */
    public static void crossEntropyBackward(KernelContext ctx, float[] dlogits, float[] dlosses, float[] logits,
            int[] targets, int n, int v) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int target = targets[i];
        if (target < 0) {
            return;
        }
        int row = i * v;
        float max = rowMax(logits, row, v);
        float sum = 0f;
        for (int j = 0; j < v; j++) {
            sum += (float) Math.exp(logits[row + j] - max);
        }
        float g = dlosses[i];
        float inv = 1f / sum;
        for (int j = 0; j < v; j++) {
            float p = (float) Math.exp(logits[row + j] - max) * inv;
            dlogits[row + j] += (p - (j == target ? 1f : 0f)) * g;
        }
    }

    /** Largest of {@code x[from .. from+v)} (a kernel may only call helpers of its own class). */
    private static float rowMax(float[] x, int from, int v) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
            max = Math.max(max, x[from + j]);
        }
        return max;
    }
}
