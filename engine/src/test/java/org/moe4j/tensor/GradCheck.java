package org.moe4j.tensor;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.Function;
import org.moe4j.kernels.Device;
import org.moe4j.random.SplitMix64;

/**
 * Finite-difference gradient check for any op, used by every op's test.
 *
 * <p>The objective is, by default, {@code L = sum_i w_i * out_i} with fixed random weights
 * {@code w}, plus the weighted auxiliary losses the op adds to the tape, evaluated in double from
 * the op's float outputs; {@link #objective} replaces the weighted sum by another function computed
 * in double (the model's cross-entropy, for example). The op runs in training mode on both sides
 * ({@link Tape#trainingForward} for the differences). The analytic gradient comes from the tape
 * seeded with {@code dL/dout}; the numeric one from central differences
 * {@code (L(x+) - L(x-)) / (x+ - x-)}, where {@code x±} are the float values nearest
 * {@code x ± h} (the step the op really sees). They must agree within
 * {@code |a - n| <= atol + rtol * |n|}, and every checked input's largest numeric gradient must be
 * at least {@link #MIN_GRADIENT_OVER_ATOL} times atol: a check that a zero gradient would pass
 * proves nothing, so such a test must scale its inputs.
 */
public final class GradCheck {
    /** How far above atol an input's largest gradient must be for its check to mean something. */
    public static final double MIN_GRADIENT_OVER_ATOL = 10;

    private final Device device;
    private double step = 1e-2;
    private double atol = 2e-3;
    private double rtol = 2e-2;
    private Objective objective;

    public GradCheck(Device device) {
        this.device = device;
    }

    /** A scalar function of an op's output, computed in double, and its gradient. */
    public interface Objective {
        double value(float[] out);

        /** {@code dL/dout}, the seed of the backward pass. */
        float[] gradient(float[] out);
    }

    public GradCheck step(double h) {
        this.step = h;
        return this;
    }

    public GradCheck tolerance(double absolute, double relative) {
        this.atol = absolute;
        this.rtol = relative;
        return this;
    }

    /** Uses {@code f} of the op's output instead of the random weighted sum. */
    public GradCheck objective(Objective f) {
        this.objective = f;
        return this;
    }

    /**
     * Checks the gradient of {@code op} with respect to each of {@code inputs}.
     *
     * @param name   op name for failure messages
     * @param op     builds the op's output from the inputs on the given tape
     * @param inputs tensors that require grad; <em>modified</em> temporarily, restored on return
     */
    public void check(String name, Function<Tape, Tensor> op, Tensor... inputs) {
        Objective f = objective != null ? objective : weightedSum(op.apply(Tape.trainingForward(device)).toHost().size());

        for (Tensor input : inputs) {
            input.zeroGrad();
        }
        Tape tape = Tape.training(device);
        Tensor out = op.apply(tape);
        tape.backward(out, f.gradient(out.toHost().data()));

        for (int t = 0; t < inputs.length; t++) {
            Tensor input = inputs[t];
            float[] analytic = input.grad();
            device.copyToHost(analytic);
            float[] x = input.toHost().data();
            double largest = 0;
            for (int i = 0; i < x.length; i++) {
                float saved = x[i];
                float up = (float) (saved + step);
                float down = (float) (saved - step);
                x[i] = up;
                input.toDevice();
                double plus = evaluate(op, f);
                x[i] = down;
                input.toDevice();
                double minus = evaluate(op, f);
                x[i] = saved;
                input.toDevice();
                double numeric = (plus - minus) / ((double) up - down);
                largest = Math.max(largest, Math.abs(numeric));
                double error = Math.abs(analytic[i] - numeric);
                if (!(error <= atol + rtol * Math.abs(numeric))) {
                    fail(String.format("%s: gradient of input #%d %s at index %d: analytic %.6g, numeric %.6g"
                            + " (atol %.1g, rtol %.1g)", name, t, input, i, analytic[i], numeric, atol, rtol));
                }
            }
            if (largest < MIN_GRADIENT_OVER_ATOL * atol) {
                fail(String.format("%s: the gradient of input #%d %s is at most %.3g, not well above atol %.1g: a zero"
                        + " gradient would pass; scale the input or the init", name, t, input, largest, atol));
            }
        }
    }

    private double evaluate(Function<Tape, Tensor> op, Objective f) {
        Tape tape = Tape.trainingForward(device);
        double sum = f.value(op.apply(tape).toHost().data());
        for (Tape.WeightedLoss added : tape.losses()) {
            sum += (double) added.weight() * added.loss().toHost().data()[0];
        }
        return sum;
    }

    /** {@code sum_i w_i * out_i} with weights uniform in [-1, 1) from a fixed seed. */
    private static Objective weightedSum(int size) {
        float[] weights = new float[size];
        SplitMix64 random = new SplitMix64(1234);
        for (int i = 0; i < weights.length; i++) {
            weights[i] = random.nextFloat() * 2f - 1f;
        }
        return new Objective() {
            @Override
            public double value(float[] out) {
                double sum = 0;
                for (int i = 0; i < out.length; i++) {
                    sum += (double) weights[i] * out[i];
                }
                return sum;
            }

            @Override
            public float[] gradient(float[] out) {
                return weights;
            }
        };
    }
}
