package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Softmax and log-softmax over the last dimension. */
public final class Softmax {
    private Softmax() {
    }

    /** Softmax of each row of the last dimension, same shape as {@code x}; {@code x} not modified. */
    public static Tensor softmax(Tape tape, Tensor x) {
        int v = x.dim(-1);
        int n = x.rows();
        boolean recorded = tape.needsGrad(x);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        device.launch(org.moe4j.kernels.lib.Softmax.grid(n), org.moe4j.kernels.lib.Softmax::softmaxForward,
                out.data(), x.data(), n, v);
        if (recorded) {
            tape.record(() -> device.launch(org.moe4j.kernels.lib.Softmax.grid(n),
                    org.moe4j.kernels.lib.Softmax::softmaxBackward, x.grad(), out.grad(), out.data(), n, v));
        }
        return out;
    }

    /** Log-softmax of each row of the last dimension, same shape as {@code x}; {@code x} not modified. */
    public static Tensor logSoftmax(Tape tape, Tensor x) {
        int v = x.dim(-1);
        int n = x.rows();
        boolean recorded = tape.needsGrad(x);
        Tensor out = tape.output(recorded, x.shape());
        Device device = tape.device();
        device.launch(org.moe4j.kernels.lib.Softmax.grid(n), org.moe4j.kernels.lib.Softmax::logSoftmaxForward,
                out.data(), x.data(), n, v);
        if (recorded) {
            tape.record(() -> device.launch(org.moe4j.kernels.lib.Softmax.grid(n),
                    org.moe4j.kernels.lib.Softmax::logSoftmaxBackward, x.grad(), out.grad(), out.data(), n, v));
        }
        return out;
    }
}
