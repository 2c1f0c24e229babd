package org.moe4j.tensor;

import java.util.ArrayList;
import java.util.List;
import org.moe4j.kernels.Device;

/**
 * Reverse-mode autograd: ops record their backward step here during the forward pass, and
 * {@link #backward} runs the steps in reverse order. Each step launches the op's backward kernel,
 * which accumulates ({@code +=}) into the gradients of the op's inputs.
 *
 * <p>A tape is used for one forward pass (and its backward). It also says whether the pass is
 * training (layers with train-only behaviour, such as router jitter or the training capacity
 * factor, look at {@link #isTraining()}) and collects auxiliary losses that layers add to the
 * objective ({@link #addLoss}); {@link #backward} seeds their gradients with their weights.
 * {@link #inference(Device)} gives a tape that records nothing, for evaluation and sampling.
 */
public final class Tape {
    private final Device device;
    private final boolean recording;
    private final boolean training;
    private final List<Runnable> steps = new ArrayList<>();
    private final List<WeightedLoss> losses = new ArrayList<>();

    private Tape(Device device, boolean recording, boolean training) {
        this.device = device;
        this.recording = recording;
        this.training = training;
    }

    /** A training pass that records backward steps. */
    public static Tape training(Device device) {
        return new Tape(device, true, true);
    }

    /** An evaluation pass that records nothing: ops compute forward only and need no gradients. */
    public static Tape inference(Device device) {
        return new Tape(device, false, false);
    }

    /**
     * A training pass that records nothing: the forward a training step would compute, for
     * finite-difference checks of layers whose training forward differs from evaluation.
     */
    public static Tape trainingForward(Device device) {
        return new Tape(device, false, true);
    }

    /** Whether this is a training pass (as opposed to evaluation or sampling). */
    public boolean isTraining() {
        return training;
    }

    /**
     * Adds {@code weight * loss} to the objective that {@link #backward} differentiates; layers use
     * it for auxiliary losses.
     *
     * @param name   what the loss is, for logging ({@code aux_loss}, {@code z_loss})
     * @param loss   a scalar tensor
     */
    public void addLoss(String name, Tensor loss, float weight) {
        if (loss.size() != 1) {
            throw new IllegalArgumentException("auxiliary loss " + name + " must be a scalar, got " + loss);
        }
        losses.add(new WeightedLoss(name, loss, weight));
    }

    /** The auxiliary losses added during the forward pass, in order. */
    public List<WeightedLoss> losses() {
        return List.copyOf(losses);
    }

    /** An auxiliary loss and its weight in the objective. */
    public record WeightedLoss(String name, Tensor loss, float weight) {
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

    /**
     * Back-propagates from {@code output} with the given gradient of the objective with respect to
     * it, plus the auxiliary losses with their weights.
     */
    public void backward(Tensor output, float[] outputGrad) {
        if (outputGrad.length != output.size()) {
            throw new IllegalArgumentException("output gradient has " + outputGrad.length + " values for " + output);
        }
        float[] grad = output.grad();
        System.arraycopy(outputGrad, 0, grad, 0, grad.length);
        device.copyToDevice(grad);
        for (WeightedLoss added : losses) {
            if (added.loss().requiresGrad()) {
                float[] seed = added.loss().grad();
                device.copyToHost(seed);
                seed[0] += added.weight();
                device.copyToDevice(seed);
            }
        }
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
