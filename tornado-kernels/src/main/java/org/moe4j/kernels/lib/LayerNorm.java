package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Layer normalisation of rows: {@code out[i,:] = (inp[i,:] − mean[i]) · rstd[i] · weight + bias},
 * with the biased variance as in PyTorch ({@code rstd[i] = 1 / sqrt(var + eps)}). Forward and input
 * gradient run one work-item per row; the weight and bias gradients one work-item per column,
 * summing over rows in order.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /** One work-item per row: {@link #layerNormForward}, {@link #layerNormBackward}. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /** One work-item per column: {@link #layerNormParamBackward}. */
    public static Grid gridParamBackward(int d) {
        return Grid.of(d);
    }

    /**
     * One work-item normalises one row {@code i} and saves its mean and reciprocal standard
     * deviation for the backward.
     *
     * <pre>
     * out    (N,D)  written
     * mean   (N)    written
     * rstd   (N)    written
     * inp    (N,D)
     * weight (D)
     * bias   (D)
     * </pre>
     */
    public static void layerNormForward(KernelContext ctx, float[] out, float[] mean, float[] rstd, float[] inp,
            float[] weight, float[] bias, int n, int d, float eps) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * d;
        float sum = 0f;
        for (int j = 0; j < d; j++) {
            sum += inp[row + j];
        }
        float m = sum / d;
        float var = 0f;
        for (int j = 0; j < d; j++) {
            float c = inp[row + j] - m;
            var += c * c;
        }
        float r = 1f / (float) Math.sqrt(var / d + eps);
        for (int j = 0; j < d; j++) {
            out[row + j] = (inp[row + j] - m) * r * weight[j] + bias[j];
        }
        mean[i] = m;
        rstd[i] = r;
    }

    /**
     * One work-item adds the input gradient of one row {@code i} (as llm.c's
     * {@code layernorm_backward}): with {@code x̂ = (x − mean)·rstd} and {@code g = dout·weight},
     * {@code dinp += rstd · (g − mean(g) − x̂ · mean(g·x̂))}.
     *
     * <pre>
     * dinp   (N,D)  accumulated
     * dout   (N,D)
     * inp    (N,D)
     * weight (D)
     * mean   (N)    from the forward
     * rstd   (N)    from the forward
     * </pre>
     */
    public static void layerNormBackward(KernelContext ctx, float[] dinp, float[] dout, float[] inp, float[] weight,
            float[] mean, float[] rstd, int n, int d) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int row = i * d;
        float m = mean[i];
        float r = rstd[i];
        float gMean = 0f;
        float gxMean = 0f;
        for (int j = 0; j < d; j++) {
            float xhat = (inp[row + j] - m) * r;
            float g = dout[row + j] * weight[j];
            gMean += g;
            gxMean += g * xhat;
        }
        gMean /= d;
        gxMean /= d;
        for (int j = 0; j < d; j++) {
            float xhat = (inp[row + j] - m) * r;
            float g = dout[row + j] * weight[j];
            dinp[row + j] += r * (g - gMean - xhat * gxMean);
        }
    }

    /**
     * One work-item adds the gradients of one column {@code j} of the weight and the bias, summed
     * over the rows in order: {@code dweight[j] += Σ_i dout[i,j]·x̂[i,j]}, {@code dbias[j] += Σ_i dout[i,j]}.
     *
     * <pre>
     * dweight (D)    accumulated
     * dbias   (D)    accumulated
     * dout    (N,D)
     * inp     (N,D)
     * mean    (N)    from the forward
     * rstd    (N)    from the forward
     * </pre>
     */
    public static void layerNormParamBackward(KernelContext ctx, float[] dweight, float[] dbias, float[] dout,
            float[] inp, float[] mean, float[] rstd, int n, int d) {
        int j = ctx.globalIdx;
        if (j >= d) {
            return;
        }
        float dw = 0f;
        float db = 0f;
        for (int i = 0; i < n; i++) {
            float g = dout[i * d + j];
            dw += g * (inp[i * d + j] - mean[i]) * rstd[i];
            db += g;
        }
        dweight[j] += dw;
        dbias[j] += db;
    }
}
