package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Activation;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Pointwise activations: GELU (tanh approximation, as GPT-2) and SiLU. */
public final class Activations {
    private Activations() {
    }

    /** {@code gelu(x)} elementwise, same shape as {@code x}; {@code x} not modified. */
    public static Tensor gelu(Tape tape, Tensor x) {
        int n = x.size();
        boolean recorded = tape.needsGrad(x);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        device.launch(Activation.grid(n), Activation::geluForward, out.data(), x.data(), n);
        if (recorded) {
            tape.record(() -> device.launch(Activation.grid(n), Activation::geluBackward,
                    x.grad(), x.data(), out.grad(), n));
        }
        return out;
    }

    /** {@code silu(x) = x·σ(x)} elementwise, same shape as {@code x}; {@code x} not modified. */
    public static Tensor silu(Tape tape, Tensor x) {
        int n = x.size();
        boolean recorded = tape.needsGrad(x);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        device.launch(Activation.grid(n), Activation::siluForward, out.data(), x.data(), n);
        if (recorded) {
            tape.record(() -> device.launch(Activation.grid(n), Activation::siluBackward,
                    x.grad(), x.data(), out.grad(), n));
        }
        return out;
    }
}
