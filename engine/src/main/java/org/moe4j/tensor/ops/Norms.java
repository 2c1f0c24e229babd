package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.LayerNorm;
import org.moe4j.kernels.lib.RmsNorm;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Normalisations over the last dimension: RMSNorm and LayerNorm, both with {@code eps = 1e-5}. */
public final class Norms {
    /** Added to the mean square (RMSNorm) or the variance (LayerNorm) before the square root. */
    public static final float EPS = 1e-5f;

    private Norms() {
    }

    /**
     * {@code out[i,:] = x[i,:] / sqrt(mean(x[i,:]²) + eps) · weight}, over rows of the last
     * dimension {@code D}; {@code x} may have any leading shape. Inputs not modified.
     *
     * @param weight shape {@code [D]}
     */
    public static Tensor rmsNorm(Tape tape, Tensor x, Tensor weight) {
        int d = x.dim(-1);
        weight.requireShape("rmsNorm weight", d);
        int n = x.rows();
        boolean recorded = tape.needsGrad(x, weight);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        float[] rstd = device.allocateFloats(n);
        device.launch(RmsNorm.grid(n), RmsNorm::rmsNormForward, out.data(), rstd, x.data(), weight.data(), n, d, EPS);
        if (recorded) {
            tape.record(() -> {
                float[] dout = out.grad();
                if (x.requiresGrad()) {
                    device.launch(RmsNorm.grid(n), RmsNorm::rmsNormBackward,
                            x.grad(), dout, x.data(), weight.data(), rstd, n, d);
                }
                if (weight.requiresGrad()) {
                    device.launch(RmsNorm.gridWeightBackward(d), RmsNorm::rmsNormWeightBackward,
                            weight.grad(), dout, x.data(), rstd, n, d);
                }
            });
        }
        return out;
    }

    /**
     * {@code out[i,:] = (x[i,:] − mean) / sqrt(var + eps) · weight + bias} with the biased variance,
     * over rows of the last dimension {@code D}, as {@code torch.nn.LayerNorm}. Inputs not modified.
     *
     * @param weight shape {@code [D]}
     * @param bias   shape {@code [D]}
     */
    public static Tensor layerNorm(Tape tape, Tensor x, Tensor weight, Tensor bias) {
        int d = x.dim(-1);
        weight.requireShape("layerNorm weight", d);
        bias.requireShape("layerNorm bias", d);
        int n = x.rows();
        boolean recorded = tape.needsGrad(x, weight, bias);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        float[] mean = device.allocateFloats(n);
        float[] rstd = device.allocateFloats(n);
        device.launch(LayerNorm.grid(n), LayerNorm::layerNormForward,
                out.data(), mean, rstd, x.data(), weight.data(), bias.data(), n, d, EPS);
        if (recorded) {
            tape.record(() -> {
                float[] dout = out.grad();
                if (x.requiresGrad()) {
                    device.launch(LayerNorm.grid(n), LayerNorm::layerNormBackward,
                            x.grad(), dout, x.data(), weight.data(), mean, rstd, n, d);
                }
                if (weight.requiresGrad() || bias.requiresGrad()) {
                    // One kernel writes both; a parameter without a gradient gets a scratch array.
                    float[] dweight = weight.requiresGrad() ? weight.grad() : device.allocateFloats(d);
                    float[] dbias = bias.requiresGrad() ? bias.grad() : device.allocateFloats(d);
                    device.launch(LayerNorm.gridParamBackward(d), LayerNorm::layerNormParamBackward,
                            dweight, dbias, dout, x.data(), mean, rstd, n, d);
                }
            });
        }
        return out;
    }
}
