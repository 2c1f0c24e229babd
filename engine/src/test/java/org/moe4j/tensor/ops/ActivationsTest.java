package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.moe4j.testing.Close.assertClose;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class ActivationsTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    private static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    @Test
    void geluMatchesTanhFormula() {
        Tensor x = RandomTensors.uniform(DEVICE, 1, -4f, 4f, 5, 7);
        float[] out = Activations.gelu(Tape.inference(DEVICE), x).toHost().data();
        double[] reference = new double[x.size()];
        for (int i = 0; i < reference.length; i++) {
            reference[i] = gelu(x.data()[i]);
        }
        assertClose("gelu", reference, out, 1e-6, 1e-5);
    }

    @Test
    void siluMatchesFormula() {
        Tensor x = RandomTensors.uniform(DEVICE, 2, -6f, 6f, 5, 7);
        float[] out = Activations.silu(Tape.inference(DEVICE), x).toHost().data();
        double[] reference = new double[x.size()];
        for (int i = 0; i < reference.length; i++) {
            reference[i] = silu(x.data()[i]);
        }
        assertClose("silu", reference, out, 1e-6, 1e-5);
    }

    @Test
    void reluAndSquaredReluMatchTheirFormulasNaNIncluded() {
        float[] values = {-2f, -0.5f, -0f, 0f, 0.25f, 3f, Float.NaN};
        Tensor x = Tensor.of(DEVICE, false, values, values.length);
        float[] relu = Activations.relu(Tape.inference(DEVICE), x).toHost().data();
        float[] squared = Activations.squaredRelu(Tape.inference(DEVICE), x).toHost().data();
        assertClose("relu", new double[] {0, 0, 0, 0, 0.25, 3}, Arrays.copyOf(relu, 6), 0, 0);
        assertClose("relu^2", new double[] {0, 0, 0, 0, 0.0625, 9}, Arrays.copyOf(squared, 6), 0, 0);
        assertTrue(Float.isNaN(relu[6]) && Float.isNaN(squared[6]), "NaN stays NaN");
    }

    @Test
    void reluAndSquaredReluGradCheck() {
        // |x| >= 0.25: a step of h never crosses the kink at 0.
        float[] values = new float[35];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < values.length; i++) {
            float magnitude = (float) random.nextDouble(0.25, 2);
            values[i] = random.nextBoolean() ? magnitude : -magnitude;
        }
        Tensor x = Tensor.of(DEVICE, true, values, 5, 7);
        new GradCheck(DEVICE).check("relu", tape -> Activations.relu(tape, x), x);
        new GradCheck(DEVICE).check("squared relu", tape -> Activations.squaredRelu(tape, x), x);
    }

    @Test
    void geluGradCheck() {
        Tensor x = RandomTensors.uniform(DEVICE, 3, -3f, 3f, 5, 7);
        new GradCheck(DEVICE).check("gelu", tape -> Activations.gelu(tape, x), x);
    }

    @Test
    void siluGradCheck() {
        Tensor x = RandomTensors.uniform(DEVICE, 4, -3f, 3f, 5, 7);
        new GradCheck(DEVICE).check("silu", tape -> Activations.silu(tape, x), x);
    }

    @Test
    void extremeInputsStayFinite() {
        float[] values = {-1e4f, -100f, -30f, 30f, 100f, 1e4f};
        for (String op : new String[] {"gelu", "silu"}) {
            Tensor x = Tensor.of(DEVICE, true, values, values.length);
            Tape tape = Tape.training(DEVICE);
            Tensor out = op.equals("gelu") ? Activations.gelu(tape, x) : Activations.silu(tape, x);
            tape.backward(out, new float[] {1f, 1f, 1f, 1f, 1f, 1f});
            out.toHost();
            DEVICE.copyToHost(x.grad());
            // Far from 0 both are ReLU: x or 0, with slope 1 or 0.
            assertClose(op + " at extremes", new double[] {0, 0, 0, 30, 100, 1e4}, out.data(), 1e-6, 1e-6);
            assertClose(op + "' at extremes", new double[] {0, 0, 0, 1, 1, 1}, x.grad(), 1e-6, 1e-6);
        }
    }
}
