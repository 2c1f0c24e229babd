package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.Kernel3;
import org.moe4j.kernels.Kernel4;
import org.moe4j.kernels.lib.Activation;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * Pointwise activations, each the same shape as its input (not modified): GELU (tanh
 * approximation, as GPT-2), SiLU, ReLU, squared ReLU and the sigmoid ({@link Activation} has the formulas).
 */
public final class Activations {
    private Activations() {
    }

    /** {@code gelu(x)} elementwise. */
    public static Tensor gelu(Tape tape, Tensor x) {
        return pointwise(tape, x, Activation::geluForward, Activation::geluBackward);
    }

    /** {@code silu(x) = x·σ(x)} elementwise. */
    public static Tensor silu(Tape tape, Tensor x) {
        return pointwise(tape, x, Activation::siluForward, Activation::siluBackward);
    }

    /** {@code relu(x) = max(x, 0)} elementwise. */
    public static Tensor relu(Tape tape, Tensor x) {
        return pointwise(tape, x, Activation::reluForward, Activation::reluBackward);
    }

    /** {@code relu(x)²} elementwise. */
    public static Tensor squaredRelu(Tape tape, Tensor x) {
        return pointwise(tape, x, Activation::squaredReluForward, Activation::squaredReluBackward);
    }

    /** {@code σ(x) = 1/(1 + e^-x)} elementwise. */
    public static Tensor sigmoid(Tape tape, Tensor x) {
        return pointwise(tape, x, Activation::sigmoidForward, Activation::sigmoidBackward);
    }

    /**
     * The op shape every activation shares: launch {@code forward(out, x, n)}; when recorded, the
     * backward step launches {@code backward(dx, x, dout, n)}, which accumulates into {@code dx}.
     */
    private static Tensor pointwise(Tape tape, Tensor x, Kernel3<float[], float[], Integer> forward,
                                    Kernel4<float[], float[], float[], Integer> backward) {
        int n = x.size();
        boolean recorded = tape.needsGrad(x);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        device.launch(Activation.grid(n), forward, out.data(), x.data(), n);
        if (recorded) {
            tape.record(() -> device.launch(Activation.grid(n), backward, x.grad(), x.data(), out.grad(), n));
        }
        return out;
    }
}
