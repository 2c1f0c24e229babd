package org.moe4j.tensor;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.Function;
import org.moe4j.random.SplitMix64;
import org.moe4j.kernels.Device;

/**
 * Finite-difference gradient check for any op, used by every op's test.
 *
 * <p>The objective is {@code L = sum_i w_i * out_i} with fixed random weights {@code w}, plus the
 * weighted auxiliary losses the op adds to the tape, evaluated in double from float outputs. The
 * op runs in training mode on both sides ({@link Tape#trainingForward} for the differences). The analytic gradient comes from the tape with
 * {@code dL/dout = w}; the numeric one from central differences {@code (L(x+h) - L(x-h)) / 2h}
 * on every element of every checked input. They must agree within
 * {@code |a - n| <= atol + rtol * |n|}.
 */
public final class GradCheck {
    private final Device device;
    private double step = 1e-2;
    private double atol = 2e-3;
    private double rtol = 2e-2;

    public GradCheck(Device device) {
        this.device = device;
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

    /**
     * Checks the gradient of {@code op} with respect to each of {@code inputs}.
     *
     * @param name   op name for failure messages
     * @param op     builds the op's output from the inputs on the given tape
     * @param inputs tensors that require grad; <em>modified</em> temporarily, restored on return
     */
    public void check(String name, Function<Tape, Tensor> op, Tensor... inputs) {
        Tape probe = Tape.trainingForward(device);
        Tensor first = op.apply(probe).toHost();
        float[] weights = new float[first.size()];
        SplitMix64 random = new SplitMix64(1234);
        for (int i = 0; i < weights.length; i++) {
            weights[i] = random.nextFloat() * 2f - 1f;
        }

        for (Tensor input : inputs) {
            input.zeroGrad();
        }
        Tape tape = Tape.training(device);
        Tensor out = op.apply(tape);
        tape.backward(out, weights);

        for (int t = 0; t < inputs.length; t++) {
            Tensor input = inputs[t];
            float[] analytic = input.grad();
            device.copyToHost(analytic);
            float[] x = input.toHost().data();
            for (int i = 0; i < x.length; i++) {
                float saved = x[i];
                x[i] = (float) (saved + step);
                input.toDevice();
                double plus = objective(op, weights);
                x[i] = (float) (saved - step);
                input.toDevice();
                double minus = objective(op, weights);
                x[i] = saved;
                input.toDevice();
                double numeric = (plus - minus) / (2 * step);
                double error = Math.abs(analytic[i] - numeric);
                if (error > atol + rtol * Math.abs(numeric)) {
                    fail(String.format("%s: gradient of input #%d %s at index %d: analytic %.6g, numeric %.6g",
                            name, t, input, i, analytic[i], numeric));
                }
            }
        }
    }

    private double objective(Function<Tape, Tensor> op, float[] weights) {
        Tape tape = Tape.trainingForward(device);
        float[] out = op.apply(tape).toHost().data();
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            sum += (double) weights[i] * out[i];
        }
        for (Tape.WeightedLoss added : tape.losses()) {
            sum += (double) added.weight() * added.loss().toHost().data()[0];
        }
        return sum;
    }
}
