package org.moe4j.tensor;

import java.util.ArrayList;
import java.util.List;
import org.moe4j.kernels.Device;

/**
 * Reverse-mode autograd: ops record their backward step here during the forward pass, and
 * {@link #backward} runs the steps in reverse order. Each step launches the op's backward kernel,
 * which accumulates ({@code +=}) into the gradients of the op's inputs.
 *
 * <p>A tape is used for one forward/backward pass. {@link #inference(Device)} gives a tape that
 * records nothing, for evaluation and sampling.
 */
public final class Tape {
    private final Device device;
    private final boolean recording;
    private final List<Runnable> steps = new ArrayList<>();

    private Tape(Device device, boolean recording) {
        this.device = device;
        this.recording = recording;
    }

    /** A tape that records backward steps. */
    public static Tape training(Device device) {
        return new Tape(device, true);
    }

    /** A tape that records nothing: ops compute forward only and need no gradients. */
    public static Tape inference(Device device) {
        return new Tape(device, false);
    }

    public Device device() {
        return device;
    }

    /** Whether an op whose inputs include {@code inputs} must record its backward step. */
    public boolean needsGrad(Tensor... inputs) {
        if (!recording) {
            return false;
        }
        for (Tensor input : inputs) {
            if (input != null && input.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /** An op's output: requires grad when the op is recorded. */
    public Tensor output(boolean recorded, int... shape) {
        return Tensor.zeros(device, recorded, shape);
    }

    /** Records a backward step; it runs after every step recorded later. */
    public void record(Runnable backwardStep) {
        if (!recording) {
            throw new IllegalStateException("recording a backward step on an inference tape");
        }
        steps.add(backwardStep);
    }

    /** Back-propagates from a scalar loss: seeds its gradient with 1 and runs every step in reverse. */
    public void backward(Tensor loss) {
        if (loss.size() != 1) {
            throw new IllegalArgumentException("backward() needs a scalar loss, got " + loss);
        }
        backward(loss, new float[] {1f});
    }

    /** Back-propagates from {@code output} with the given gradient of the objective with respect to it. */
    public void backward(Tensor output, float[] outputGrad) {
        if (outputGrad.length != output.size()) {
            throw new IllegalArgumentException("output gradient has " + outputGrad.length + " values for " + output);
        }
        float[] grad = output.grad();
        System.arraycopy(outputGrad, 0, grad, 0, grad.length);
        device.copyToDevice(grad);
        for (int i = steps.size() - 1; i >= 0; i--) {
            steps.get(i).run();
        }
        steps.clear();
    }

    /** Number of recorded steps (for tests). */
    public int recordedSteps() {
        return steps.size();
    }
}
