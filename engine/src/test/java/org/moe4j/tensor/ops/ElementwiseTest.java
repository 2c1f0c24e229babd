package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class ElementwiseTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void addMatchesSum() {
        Tensor a = RandomTensors.gaussian(DEVICE, 1, 1f, 5, 7);
        Tensor b = RandomTensors.gaussian(DEVICE, 2, 1f, 5, 7);
        Tensor out = Elementwise.add(Tape.inference(DEVICE), a, b).toHost();
        double[] reference = new double[35];
        for (int i = 0; i < 35; i++) {
            reference[i] = (double) a.data()[i] + b.data()[i];
        }
        assertClose("add", reference, out.data(), 0, 1e-7);
    }

    @Test
    void addGradCheck() {
        Tensor a = RandomTensors.gaussian(DEVICE, 3, 1f, 5, 7);
        Tensor b = RandomTensors.gaussian(DEVICE, 4, 1f, 5, 7);
        new GradCheck(DEVICE).check("add", tape -> Elementwise.add(tape, a, b), a, b);
    }

    @Test
    void addingATensorToItselfAccumulatesBothGradients() {
        Tensor a = RandomTensors.gaussian(DEVICE, 5, 1f, 3);
        Tape tape = Tape.training(DEVICE);
        Tensor out = Elementwise.add(tape, a, a);
        tape.backward(out, new float[] {1f, 2f, 3f});
        DEVICE.copyToHost(a.grad());
        assertClose("d(a+a)/da", new double[] {2, 4, 6}, a.grad(), 0, 0);
    }

    @Test
    void inferenceTapeRecordsNothing() {
        Tensor a = RandomTensors.gaussian(DEVICE, 6, 1f, 4);
        Tape tape = Tape.inference(DEVICE);
        Tensor out = Elementwise.add(tape, a, a);
        assertFalse(out.requiresGrad());
        assertEquals(0, tape.recordedSteps());
    }

    @Test
    void rejectsDifferentShapes() {
        Tensor a = RandomTensors.gaussian(DEVICE, 7, 1f, 5, 7);
        Tensor b = RandomTensors.gaussian(DEVICE, 8, 1f, 7, 5);
        assertThrows(IllegalArgumentException.class, () -> Elementwise.add(Tape.inference(DEVICE), a, b));
    }
}
