package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class LinearTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, false);

    static {
        GemmSimd.registerOn(DEVICE);
    }

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void forwardMatchesDoubleReference() {
        Tensor x = RandomTensors.uniform(DEVICE, 1, -1f, 1f, 2, 3, 5);
        Tensor w = RandomTensors.uniform(DEVICE, 2, -1f, 1f, 5, 7);
        Tensor b = RandomTensors.uniform(DEVICE, 3, -1f, 1f, 7);
        float[] out = Linear.forward(Tape.inference(DEVICE), x, w, b).requireShape("out", 2, 3, 7).toHost().data();
        double[] reference = new double[6 * 7];
        for (int n = 0; n < 6; n++) {
            for (int o = 0; o < 7; o++) {
                double sum = b.data()[o];
                for (int i = 0; i < 5; i++) {
                    sum += (double) x.data()[n * 5 + i] * w.data()[i * 7 + o];
                }
                reference[n * 7 + o] = sum;
            }
        }
        assertClose("linear", reference, out, 1e-6, 1e-5);
    }

    @Test
    void gradientsOfInputWeightAndBias() {
        Tensor x = RandomTensors.uniform(DEVICE, 4, -1f, 1f, 6, 5);
        Tensor w = RandomTensors.uniform(DEVICE, 5, -1f, 1f, 5, 7);
        Tensor b = RandomTensors.uniform(DEVICE, 6, -1f, 1f, 7);
        new GradCheck(DEVICE).check("linear", tape -> Linear.forward(tape, x, w, b), x, w, b);
        new GradCheck(DEVICE).check("linear without bias", tape -> Linear.forward(tape, x, w, null), x, w);
    }

    @Test
    void mismatchedWidthsAreRejected() {
        Tensor x = RandomTensors.uniform(DEVICE, 7, -1f, 1f, 6, 4);
        Tensor w = RandomTensors.uniform(DEVICE, 8, -1f, 1f, 5, 7);
        assertThrows(IllegalArgumentException.class,
                () -> Linear.forward(Tape.inference(DEVICE), x, w, null));
    }
}
