package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * RMS normalisation of rows: {@code out[i,:] = inp[i,:] · rstd[i] · weight}, with
 * {@code rstd[i] = 1 / sqrt(mean_j inp[i,j]² + eps)}. The forward and the input gradient run one
 * work-item per row; the weight gradient runs one work-item per column, summing over rows in order.
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** One work-item per row: {@link #rmsNormForward}, {@link #rmsNormBackward}. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /** One work-item per column: {@link #rmsNormWeightBackward}. */
    public static Grid gridWeightBackward(int d) {
        return Grid.of(d);
    }

    /**
     * One work-item normalises one row {@code i} and saves its reciprocal RMS for the backward.
     *
     * <pre>
     * out    (N,D)  written
     * rstd   (N)    written
     * inp    (N,D)
     * weight (D)
     * </pre>
     */
    public static void rmsNormForward(KernelContext ctx, float[] out, float[] rstd, float[] inp, float[] weight,
            int n, int d, float eps) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * d;
        float ss = 0f;
        for (int j = 0; j < d; j++) {
            float x = inp[row + j];
            ss += x * x;
        }
        float r = 1f / (float) Math.sqrt(ss / d + eps);
        for (int j = 0; j < d; j++) {
            out[row + j] = inp[row + j] * r * weight[j];
        }
        rstd[i] = r;
    }

    /**
     * One work-item adds the input gradient of one row {@code i}:
     * {@code dinp[i,j] += r·w[j]·g[j] − r³·x[j]·(Σ_k g[k]·w[k]·x[k]) / D}, with {@code g = dout[i,:]},
     * {@code x = inp[i,:]}, {@code r = rstd[i]}.
     *
     * <pre>
     * dinp   (N,D)  accumulated
     * dout   (N,D)
     * inp    (N,D)
     * weight (D)
     * rstd   (N)    from the forward
     * </pre>
     */
    public static void rmsNormBackward(KernelContext ctx, float[] dinp, float[] dout, float[] inp, float[] weight,
            float[] rstd, int n, int d) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * d;
        float r = rstd[i];
        float dot = 0f;
        for (int j = 0; j < d; j++) {
            dot += dout[row + j] * weight[j] * inp[row + j];
        }
        float c = r * r * r * dot / d;
        for (int j = 0; j < d; j++) {
            dinp[row + j] += r * weight[j] * dout[row + j] - c * inp[row + j];
        }
    }

    /**
     * One work-item adds the gradient of one weight {@code j}, summed over the rows in order:
     * {@code dweight[j] += Σ_i dout[i,j]·inp[i,j]·rstd[i]}.
     *
     * <pre>
     * dweight (D)    accumulated
     * dout    (N,D)
     * inp     (N,D)
     * rstd    (N)    from the forward
     * </pre>
     */
    public static void rmsNormWeightBackward(KernelContext ctx, float[] dweight, float[] dout, float[] inp, float[] rstd,
            int n, int d) {
        int j = ctx.globalIdx;
        if (j >= d) {
            return;
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += dout[i * d + j] * inp[i * d + j] * rstd[i];
        }
        dweight[j] += sum;
    }
}
