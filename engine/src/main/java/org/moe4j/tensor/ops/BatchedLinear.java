package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.BatchedGemm;
import org.moe4j.kernels.lib.Bias;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * A batch of independent affine maps {@code out[e] = x[e]·w[e] + b[e]}: every expert of an MoE layer
 * applied to its own rows of the dispatch buffer at once, with batched GEMMs.
 */
public final class BatchedLinear {
    private BatchedLinear() {
    }

    /**
     * {@code out (E,R,O) = x (E,R,I) · w (E,I,O) + b (E,O)}, matrix by matrix.
     *
     * @param bias may be null
     */
    public static Tensor forward(Tape tape, Tensor x, Tensor w, Tensor bias) {
        checkShapes(x, w, bias);
        boolean recorded = tape.needsGrad(x, w, bias);
        Tensor out = tape.output(recorded, w.dim(0), x.dim(1), w.dim(2));
        Device device = tape.device();
        affine(device, out, x, w, bias);
        if (recorded) {
            tape.record(() -> backward(device, out.grad(), x, w, bias));
        }
        return out;
    }

    /** Rejects x (E,R,I), w (E,I,O) and bias (E,O) (if not null) of other shapes. */
    static void checkShapes(Tensor x, Tensor w, Tensor bias) {
        if (x.rank() != 3 || w.rank() != 3) {
            throw new IllegalArgumentException("batched linear: input " + x + " and weight " + w + " must be 3-D");
        }
        int batch = w.dim(0);
        int in = w.dim(1);
        int outDim = w.dim(2);
        if (x.dim(0) != batch || x.dim(2) != in) {
            throw new IllegalArgumentException("batched linear: input " + x + " does not match weight " + w
                    + " (expected (" + batch + ", rows, " + in + "))");
        }
        if (bias != null) {
            bias.requireShape("batched linear bias", batch, outDim);
        }
    }

    /** {@code out = x·w + bias}, shapes already checked. */
    static void affine(Device device, Tensor out, Tensor x, Tensor w, Tensor bias) {
        int batch = w.dim(0);
        int in = w.dim(1);
        int outDim = w.dim(2);
        int rows = x.dim(1);
        device.launch(BatchedGemm.grid(batch, rows, outDim), BatchedGemm::matmul, out.data(), x.data(), w.data(),
                batch, rows, outDim, in, 0f);
        if (bias != null) {
            device.launch(Bias.gridBatched(batch, rows, outDim), Bias::addBiasBatched, out.data(), bias.data(),
                    batch, rows, outDim);
        }
    }

    /**
     * The gradients of {@code x·w + bias} from {@code dout (E,R,O)}, accumulated into those of the
     * tensors that require them.
     */
    static void backward(Device device, float[] dout, Tensor x, Tensor w, Tensor bias) {
        int batch = w.dim(0);
        int in = w.dim(1);
        int outDim = w.dim(2);
        int rows = x.dim(1);
        if (x.requiresGrad()) {
            // dx[e] (R,I) += dout[e]·w[e]ᵀ
            device.launch(BatchedGemm.grid(batch, rows, in), BatchedGemm::matmulTransB, x.grad(), dout, w.data(),
                    batch, rows, in, outDim, 1f);
        }
        if (w.requiresGrad()) {
            // dw[e] (I,O) += x[e]ᵀ·dout[e]
            device.launch(BatchedGemm.grid(batch, in, outDim), BatchedGemm::matmulTransA, w.grad(), x.data(), dout,
                    batch, in, outDim, rows, 1f);
        }
        if (bias != null && bias.requiresGrad()) {
            device.launch(Bias.gridBackwardBatched(batch, outDim), Bias::biasBackwardBatched, bias.grad(), dout,
                    batch, rows, outDim);
        }
    }
}
