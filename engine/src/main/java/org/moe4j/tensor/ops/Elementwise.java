package org.moe4j.tensor.ops;

import java.util.Arrays;
import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Element-by-element ops on tensors of equal shape. */
public final class Elementwise {
    private Elementwise() {
    }

    /**
     * {@code out = a + b} (the residual connection). {@code a} and {@code b} must have the same
     * shape; they may be the same tensor. Not modified.
     */
    public static Tensor add(Tape tape, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("add: shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " differ");
        }
        int n = a.size();
        boolean recorded = tape.needsGrad(a, b);
        Tensor out = tape.output(recorded, a.shape());
        Device device = tape.device();
        device.launch(org.moe4j.kernels.lib.Elementwise.grid(n), org.moe4j.kernels.lib.Elementwise::add,
                out.data(), a.data(), b.data(), n);
        if (recorded) {
            tape.record(() -> {
                float[] dout = out.grad();
                for (Tensor input : new Tensor[] {a, b}) {
                    if (input.requiresGrad()) {
                        device.launch(org.moe4j.kernels.lib.Elementwise.grid(n),
                                org.moe4j.kernels.lib.Elementwise::accumulate, input.grad(), dout, n);
                    }
                }
            });
        }
        return out;
    }
    /**
     * {@code out = a * b} element by element (gates, noise). {@code a} and {@code b} must have the
     * same shape; they may be the same tensor. Not modified.
     */
    public static Tensor multiply(Tape tape, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("multiply: shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " differ");
        }
        int n = a.size();
        boolean recorded = tape.needsGrad(a, b);
        Tensor out = tape.output(recorded, a.shape());
        Device device = tape.device();
        device.launch(org.moe4j.kernels.lib.Elementwise.grid(n), org.moe4j.kernels.lib.Elementwise::multiply,
                out.data(), a.data(), b.data(), n);
        if (recorded) {
            tape.record(() -> {
                float[] dout = out.grad();
                if (a.requiresGrad()) {
                    device.launch(org.moe4j.kernels.lib.Elementwise.grid(n),
                            org.moe4j.kernels.lib.Elementwise::multiplyBackward, a.grad(), dout, b.data(), n);
                }
                if (b.requiresGrad()) {
                    device.launch(org.moe4j.kernels.lib.Elementwise.grid(n),
                            org.moe4j.kernels.lib.Elementwise::multiplyBackward, b.grad(), dout, a.data(), n);
                }
            });
        }
        return out;
    }
}
