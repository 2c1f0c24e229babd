package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Row-wise softmax and log-softmax over the last dimension, one work-item per row; launch over
 * {@link #grid(int)}. The row maximum is subtracted first, so large logits do not overflow.
 */
public final class Softmax {
    private Softmax() {
    }

    /** One work-item per row. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /**
     * One work-item writes the softmax of one row {@code i}.
     *
     * <pre>
     * out (N,V)  written: out[i,v] = exp(inp[i,v] − max) / Σ_u exp(inp[i,u] − max)
     * inp (N,V)
     * </pre>
     */
    public static void softmaxForward(KernelContext ctx, float[] out, float[] inp, int n, int v) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * v;
        float max = rowMax(inp, row, v);
        float sum = 0f;
        for (int j = 0; j < v; j++) {
            float e = (float) Math.exp(inp[row + j] - max);
            out[row + j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int j = 0; j < v; j++) {
            out[row + j] *= inv;
        }
    }

    /**
     * One work-item adds the input gradient of one row {@code i} from the forward's output
     * {@code y}: {@code dinp[i,v] += y[v]·(dout[i,v] − Σ_u dout[i,u]·y[u])}.
     *
     * <pre>
     * dinp (N,V)  accumulated
     * dout (N,V)
     * out  (N,V)  the forward's output
     * </pre>
     */
    public static void softmaxBackward(KernelContext ctx, float[] dinp, float[] dout, float[] out, int n, int v) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * v;
        float dot = 0f;
        for (int j = 0; j < v; j++) {
            dot += dout[row + j] * out[row + j];
        }
        for (int j = 0; j < v; j++) {
            dinp[row + j] += out[row + j] * (dout[row + j] - dot);
        }
    }

    /**
     * One work-item writes the log-softmax of one row {@code i}.
     *
     * <pre>
     * out (N,V)  written: out[i,v] = (inp[i,v] − max) − log Σ_u exp(inp[i,u] − max)
     * inp (N,V)
     * </pre>
     */
    public static void logSoftmaxForward(KernelContext ctx, float[] out, float[] inp, int n, int v) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * v;
        float max = rowMax(inp, row, v);
        float sum = 0f;
        for (int j = 0; j < v; j++) {
            sum += (float) Math.exp(inp[row + j] - max);
        }
        // (x − max) − log(sum), not x − (max + log(sum)): at |max| = 1e4 a float ulp is 1e-3.
        float logSum = (float) Math.log(sum);
        for (int j = 0; j < v; j++) {
            out[row + j] = (inp[row + j] - max) - logSum;
        }
    }

    /**
     * One work-item adds the input gradient of one row {@code i} from the forward's output
     * {@code y}: {@code dinp[i,v] += dout[i,v] − exp(y[v])·Σ_u dout[i,u]}.
     *
     * <pre>
     * dinp (N,V)  accumulated
     * dout (N,V)
     * out  (N,V)  the forward's output
     * </pre>
     */
    public static void logSoftmaxBackward(KernelContext ctx, float[] dinp, float[] dout, float[] out, int n, int v) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * v;
        float sum = 0f;
        for (int j = 0; j < v; j++) {
            sum += dout[row + j];
        }
        for (int j = 0; j < v; j++) {
            dinp[row + j] += dout[row + j] - (float) Math.exp(out[row + j]) * sum;
        }
    }

    /** Largest of {@code x[from .. from+v)}. */
    private static float rowMax(float[] x, int from, int v) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
            max = Math.max(max, x[from + j]);
        }
        return max;
    }
}
