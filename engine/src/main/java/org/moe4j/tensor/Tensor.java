package org.moe4j.tensor;

import java.util.Arrays;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Elementwise;

/**
 * A float32 tensor: a row-major shape over an array that lives on a {@link Device}, and, for
 * tensors that take part in autograd, a gradient array of the same size allocated on first use.
 *
 * <p>The arrays are the device handles (see {@link Device}): kernels are launched on them
 * directly. Host code that reads or writes {@link #data()} between launches on an accelerator
 * calls {@link #toHost()} / {@link #toDevice()} first.
 */
public final class Tensor {
    private final Device device;
    private final int[] shape;
    private final float[] data;
    private final boolean requiresGrad;
    private float[] grad;

    private Tensor(Device device, int[] shape, float[] data, boolean requiresGrad) {
        this.device = device;
        this.shape = shape;
        this.data = data;
        this.requiresGrad = requiresGrad;
    }

    /** A zero tensor of {@code shape} on {@code device}. */
    public static Tensor zeros(Device device, boolean requiresGrad, int... shape) {
        int size = checkedSize(shape);
        return new Tensor(device, shape.clone(), device.allocateFloats(size), requiresGrad);
    }

    /** A tensor of {@code shape} holding a copy of {@code values}. */
    public static Tensor of(Device device, boolean requiresGrad, float[] values, int... shape) {
        Tensor tensor = zeros(device, requiresGrad, shape);
        if (values.length != tensor.size()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + tensor.size()
                    + " values, got " + values.length);
        }
        System.arraycopy(values, 0, tensor.data, 0, values.length);
        device.copyToDevice(tensor.data);
        return tensor;
    }

    /** A tensor sharing this one's data and gradient under another shape of the same size. */
    public Tensor view(int... newShape) {
        if (checkedSize(newShape) != size()) {
            throw new IllegalArgumentException("cannot view shape " + Arrays.toString(shape) + " as "
                    + Arrays.toString(newShape));
        }
        Tensor view = new Tensor(device, newShape.clone(), data, requiresGrad);
        view.grad = requiresGrad ? grad() : null;
        return view;
    }

    /** A tensor over {@code source}'s data (not copied) that takes part in autograd or not, with a gradient of its own. */
    static Tensor sharing(Tensor source, boolean requiresGrad) {
        return new Tensor(source.device, source.shape, source.data, requiresGrad);
    }

    /**
     * Makes {@code grad} this tensor's gradient array, for a tensor that has none yet: the
     * recomputed output of a segment receives its gradient in the array its first run's output was
     * given ({@link Tape#recompute}).
     */
    void adoptGrad(float[] grad) {
        if (!requiresGrad || this.grad != null || grad.length != data.length) {
            throw new IllegalStateException("cannot give " + this + " a gradient of " + grad.length + " values"
                    + (this.grad != null ? ": it has one" : requiresGrad ? "" : ": it does not require grad"));
        }
        this.grad = grad;
    }

    public Device device() {
        return device;
    }

    /** The shape; a copy, so callers cannot change it. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Extent of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int size() {
        return data.length;
    }

    /** Number of rows when the last dimension is taken as the row. */
    public int rows() {
        return size() / dim(-1);
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The storage array. <em>Modified</em> by kernels that write this tensor. */
    public float[] data() {
        return data;
    }

    /** The gradient array, allocated zeroed on first use; only for tensors that require grad. */
    public float[] grad() {
        if (!requiresGrad) {
            throw new IllegalStateException("tensor of shape " + Arrays.toString(shape) + " does not require grad");
        }
        if (grad == null) {
            grad = device.allocateFloats(data.length);
        }
        return grad;
    }

    /** Whether a gradient array has been allocated. */
    public boolean hasGrad() {
        return grad != null;
    }

    /** Sets the gradient to zero (if there is one). */
    public void zeroGrad() {
        if (grad != null) {
            device.launch(Elementwise.grid(grad.length), Elementwise::fill, grad, 0f, grad.length);
        }
    }

    /** Makes {@link #data()} current on the host, after kernels wrote it. */
    public Tensor toHost() {
        device.copyToHost(data);
        return this;
    }

    /** Publishes host writes of {@link #data()} to the device. */
    public Tensor toDevice() {
        device.copyToDevice(data);
        return this;
    }

    /** Throws unless this tensor has exactly {@code expected} shape; {@code what} names it in the message. */
    public Tensor requireShape(String what, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(what + " must have shape " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(shape));
        }
        return this;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }

    private static int checkedSize(int[] shape) {
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            size *= d;
        }
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
        }
        return (int) size;
    }
}
