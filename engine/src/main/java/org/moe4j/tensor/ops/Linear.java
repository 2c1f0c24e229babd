package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Bias;
import org.moe4j.kernels.lib.Gemm;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Affine maps {@code y = x·W + b} and plain matrix products, with their backward. */
public final class Linear {
    private Linear() {
    }

    /**
     * {@code out[N,O] = x[N,I]·w[I,O] + b[O]}; {@code x} may have any leading shape whose last
     * dimension is {@code I}, and {@code out} keeps it with the last dimension {@code O}.
     *
     * @param bias may be null
     */
    public static Tensor forward(Tape tape, Tensor x, Tensor w, Tensor bias) {
        int in = w.dim(0);
        int outDim = w.dim(1);
        if (x.dim(-1) != in) {
            throw new IllegalArgumentException("linear: input width " + x.dim(-1) + " does not match weight rows " + in);
        }
        if (bias != null) {
            bias.requireShape("linear bias", outDim);
        }
        int n = x.rows();
        int[] shape = x.shape();
        shape[shape.length - 1] = outDim;
        boolean recorded = tape.needsGrad(x, w, bias);
        Tensor out = tape.output(recorded, shape);
        Device device = tape.device();
        device.launch(Gemm.grid(n, outDim), Gemm::matmul, out.data(), x.data(), w.data(), n, outDim, in, 0f);
        if (bias != null) {
            device.launch(Bias.grid(n, outDim), Bias::addBias, out.data(), bias.data(), n, outDim);
        }
        if (recorded) {
            tape.record(() -> backward(device, out, x, w, bias, n, in, outDim));
        }
        return out;
    }

    private static void backward(Device device, Tensor out, Tensor x, Tensor w, Tensor bias, int n, int in, int outDim) {
        float[] dout = out.grad();
        if (x.requiresGrad()) {
            // dx[N,I] += dout[N,O]·wᵀ
            device.launch(Gemm.grid(n, in), Gemm::matmulTransB, x.grad(), dout, w.data(), n, in, outDim, 1f);
        }
        if (w.requiresGrad()) {
            // dw[I,O] += xᵀ·dout
            device.launch(Gemm.grid(in, outDim), Gemm::matmulTransA, w.grad(), x.data(), dout, in, outDim, n, 1f);
        }
        if (bias != null && bias.requiresGrad()) {
            device.launch(Bias.gridBackward(outDim), Bias::biasBackward, bias.grad(), dout, n, outDim);
        }
    }
}
