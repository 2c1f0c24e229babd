package org.moe4j.tensor.ops;

import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class SoftmaxTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);
    private static final int N = 5;
    private static final int V = 7;

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    /** Log-softmax of each row, in double. */
    private static double[] logSoftmaxReference(float[] x, int v) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / v; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, x[r * v + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(x[r * v + j] - max);
            }
            for (int j = 0; j < v; j++) {
                out[r * v + j] = x[r * v + j] - max - Math.log(sum);
            }
        }
        return out;
    }

    private static double[] exp(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.exp(x[i]);
        }
        return out;
    }

    @Test
    void softmaxMatchesReference() {
        Tensor x = RandomTensors.gaussian(DEVICE, 1, 3f, N, V);
        float[] out = Softmax.softmax(Tape.inference(DEVICE), x).toHost().data();
        assertClose("softmax", exp(logSoftmaxReference(x.data(), V)), out, 1e-7, 1e-5);
    }

    @Test
    void logSoftmaxMatchesReference() {
        Tensor x = RandomTensors.gaussian(DEVICE, 2, 3f, 2, 3, V);
        float[] out = Softmax.logSoftmax(Tape.inference(DEVICE), x).toHost().data();
        assertClose("logSoftmax", logSoftmaxReference(x.data(), V), out, 1e-5, 1e-5);
    }

    @Test
    void softmaxGradCheck() {
        Tensor x = RandomTensors.gaussian(DEVICE, 3, 1f, N, V);
        new GradCheck(DEVICE).check("softmax", tape -> Softmax.softmax(tape, x), x);
    }

    @Test
    void logSoftmaxGradCheck() {
        Tensor x = RandomTensors.gaussian(DEVICE, 4, 1f, N, V);
        new GradCheck(DEVICE).check("logSoftmax", tape -> Softmax.logSoftmax(tape, x), x);
    }

    @Test
    void largeLogitsDoNotOverflow() {
        float[] values = {1e4f, 1e4f - 1f, 1e4f - 2f, -1e4f, 5e3f, 1e4f, 0f};
        Tensor x = Tensor.of(DEVICE, true, values, 1, V);
        double[] reference = logSoftmaxReference(values, V);
        assertClose("softmax of 1e4 logits", exp(reference),
                Softmax.softmax(Tape.inference(DEVICE), x).toHost().data(), 1e-7, 1e-5);
        assertClose("logSoftmax of 1e4 logits", reference,
                Softmax.logSoftmax(Tape.inference(DEVICE), x).toHost().data(), 1e-5, 1e-6);
    }
}
