package org.moe4j.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;
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
 *
 * <p>Activation recomputation ({@link #recompute}): a segment of the forward pass (a transformer
 * block) runs without recording, so that only its input and output stay for the backward pass; when
 * the backward pass reaches it, the segment runs again on a recording tape and its steps run at
 * once. The kernels and their order are those of a recorded forward, so the gradients are the same
 * bits. What the forward decided without differentiating (a routing plan, noise) is made once with
 * {@link #decision} and handed unchanged to the recomputation.
 */
public final class Tape {
    private final Device device;
    private final boolean recording;
    private final boolean training;
    private final List<Runnable> steps = new ArrayList<>();
    private final List<WeightedLoss> losses = new ArrayList<>();
    /** Decisions this pass made, for its recomputation; null when nothing will recompute it. */
    private final Map<Object, Object> decided;
    /** The decisions of the pass this tape recomputes; null when it is not a recomputation. */
    private final Map<Object, Object> replayed;

    private Tape(Device device, boolean recording, boolean training) {
        this(device, recording, training, null, null);
    }

    private Tape(Device device, boolean recording, boolean training, Map<Object, Object> decided,
                 Map<Object, Object> replayed) {
        this.device = device;
        this.recording = recording;
        this.training = training;
        this.decided = decided;
        this.replayed = replayed;
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
     * Whether this tape recomputes a forward pass for its backward ({@link #recompute}): layers
     * compute what they computed before, and report nothing again (their statistics are the first
     * pass's).
     */
    public boolean isRecomputation() {
        return replayed != null;
    }

    /**
     * A decision of the forward pass that is not differentiated (a routing plan, jitter noise): made
     * by {@code decide} here, and on the tape that recomputes this pass returned as the first pass
     * made it, without calling {@code decide}. An owner makes one decision per pass.
     *
     * @param owner the layer (or part of it) deciding; compared by identity
     */
    @SuppressWarnings("unchecked")
    public <T> T decision(Object owner, Supplier<T> decide) {
        if (replayed != null) {
            if (!replayed.containsKey(owner)) {
                throw new IllegalStateException("the recomputed pass asks for a decision of " + owner
                        + " that its first pass did not make");
            }
            return (T) replayed.get(owner);
        }
        T value = decide.get();
        if (decided != null && decided.put(owner, value) != null) {
            throw new IllegalStateException(owner + " made a second decision in one recomputed segment");
        }
        return value;
    }

    /**
     * {@code segment.apply(tape, input)} with activation recomputation: the segment runs now on a
     * tape that records nothing, and its output is returned as a tensor that takes part in this
     * tape's backward pass; when that pass reaches it, the segment runs again on {@code input},
     * recorded, with the first run's {@link #decision}s, and its backward steps run at once. So the
     * backward pass keeps only {@code input} and the output of the segment, plus one segment's
     * activations while it is recomputed. On a tape that records nothing, the segment simply runs.
     *
     * @param input   the segment's input; not modified (its gradient accumulates as without recomputation)
     * @param segment a forward computation that depends only on {@code input}, the parameters and
     *                {@link #decision}s
     */
    public Tensor recompute(Tensor input, BiFunction<Tape, Tensor, Tensor> segment) {
        if (!recording) {
            return segment.apply(this, input);
        }
        Tape first = new Tape(device, false, training, new IdentityHashMap<>(), null);
        Tensor value = segment.apply(first, input);
        losses.addAll(first.losses);
        Tensor output = Tensor.sharing(value, true);
        record(() -> {
            Tape again = new Tape(device, true, training, null, first.decided);
            Tensor recomputed = segment.apply(again, input);
            if (!Arrays.equals(recomputed.shape(), output.shape())) {
                throw new IllegalStateException("the recomputed segment returned " + recomputed + ", its first run "
                        + output);
            }
            // The gradient flows in where the first run's output received it.
            recomputed.adoptGrad(output.grad());
            again.runBackward();
        });
        return output;
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
        runBackward();
    }

    /** Seeds the auxiliary losses' gradients with their weights and runs every step in reverse. */
    private void runBackward() {
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
