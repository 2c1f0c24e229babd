package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.BatchedGemm;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * A batch of two-layer GELU MLPs {@code out[e] = gelu(x[e]·w1[e] + b1[e])·w2[e] + b2[e]}, the
 * built-in expert FFN, with the activation fused into the GEMMs: the first layer's GEMM adds the
 * bias and applies GELU in its store, keeping the pre-activation (so the backward recomputes
 * nothing), and in the backward the second layer's input-gradient GEMM multiplies by
 * {@code gelu'(pre)} in its store, so the gradient of the hidden activations is never stored. The
 * same bits as {@link BatchedLinear}, {@link Activations#gelu} and {@link BatchedLinear} one after
 * another on the portable kernels, and on the JVM's overrides where F is a multiple of the vector
 * length (elsewhere the fused store's last columns take the scalar tanh where the unfused pass took
 * the vector one: within an ulp of tanh). On a device whose plain GEMMs beat the fused ones
 * ({@link Device#fusesGemmEpilogues()} false: cuBLAS) it runs those unfused ops instead.
 */
public final class BatchedGeluMlp {
    private BatchedGeluMlp() {
    }

    /**
     * {@code out (E,R,O) = gelu(x (E,R,D) · w1 (E,D,F) + b1 (E,F)) · w2 (E,F,O) + b2 (E,O)}. All
     * inputs are not modified.
     *
     * @param downBias may be null
     */
    public static Tensor forward(Tape tape, Tensor x, Tensor upWeight, Tensor upBias, Tensor downWeight,
                                 Tensor downBias) {
        if (upBias == null) {
            throw new IllegalArgumentException("batched GELU MLP: the first layer needs a bias (its GEMM adds it)");
        }
        Device device = tape.device();
        if (!device.fusesGemmEpilogues()) {
            Tensor hidden = Activations.gelu(tape, BatchedLinear.forward(tape, x, upWeight, upBias));
            return BatchedLinear.forward(tape, hidden, downWeight, downBias);
        }
        BatchedLinear.checkShapes(x, upWeight, upBias);
        int batch = upWeight.dim(0);
        int rows = x.dim(1);
        int width = upWeight.dim(1);
        int hidden = upWeight.dim(2);
        float[] pre = device.allocateFloats(batch * rows * hidden);
        Tensor h = Tensor.zeros(device, false, batch, rows, hidden);
        BatchedLinear.checkShapes(h, downWeight, downBias);
        device.launch(BatchedGemm.grid(batch, rows, hidden), BatchedGemm::matmulBiasGelu, pre, h.data(), x.data(),
                upWeight.data(), upBias.data(), batch, rows, hidden, width);
        boolean recorded = tape.needsGrad(x, upWeight, upBias, downWeight, downBias);
        Tensor out = tape.output(recorded, batch, rows, downWeight.dim(2));
        BatchedLinear.affine(device, out, h, downWeight, downBias);
        if (recorded) {
            tape.record(() -> {
                float[] dout = out.grad();
                BatchedLinear.backward(device, dout, h, downWeight, downBias);
                if (x.requiresGrad() || upWeight.requiresGrad() || upBias.requiresGrad()) {
                    // dpre (E,R,F) = (dout·w2ᵀ) ⊙ gelu'(pre)
                    float[] dpre = device.allocateFloats(batch * rows * hidden);
                    device.launch(BatchedGemm.grid(batch, rows, hidden), BatchedGemm::matmulTransBGeluBackward, dpre,
                            dout, downWeight.data(), pre, batch, rows, hidden, downWeight.dim(2));
                    BatchedLinear.backward(device, dpre, x, upWeight, upBias);
                }
            });
        }
        return out;
    }
}
