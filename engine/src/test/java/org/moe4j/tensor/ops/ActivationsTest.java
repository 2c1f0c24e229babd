package org.moe4j.tensor.ops;

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
        Approx.assertClose("gelu", reference, out, 1e-6, 1e-5);
    }

    @Test
    void siluMatchesFormula() {
        Tensor x = RandomTensors.uniform(DEVICE, 2, -6f, 6f, 5, 7);
        float[] out = Activations.silu(Tape.inference(DEVICE), x).toHost().data();
        double[] reference = new double[x.size()];
        for (int i = 0; i < reference.length; i++) {
            reference[i] = silu(x.data()[i]);
        }
        Approx.assertClose("silu", reference, out, 1e-6, 1e-5);
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
            Approx.assertClose(op + " at extremes", new double[] {0, 0, 0, 30, 100, 1e4}, out.data(), 1e-6, 1e-6);
            Approx.assertClose(op + "' at extremes", new double[] {0, 0, 0, 1, 1, 1}, x.grad(), 1e-6, 1e-6);
        }
    }
}
