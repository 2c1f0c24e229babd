package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class CrossEntropyTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);
    private static final int N = 5;
    private static final int V = 7;

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void meanLossMatchesLogSumExpInDouble() {
        Tensor logits = RandomTensors.gaussian(DEVICE, 1, 2f, N, V);
        int[] targets = {0, 6, 3, 3, 1};
        Tensor loss = CrossEntropy.meanLoss(Tape.inference(DEVICE), logits, targets).toHost();
        assertArrayEquals(new int[0], loss.shape());
        assertClose("loss", new double[] {new CrossEntropyReference(targets, V).value(logits.data())}, loss.data(), 1e-6, 1e-5);
    }

    @Test
    void gradCheckWithAnIgnoredRow() {
        Tensor logits = RandomTensors.gaussian(DEVICE, 2, 1f, N, V);
        int[] targets = {2, -1, 5, 0, 6};
        new GradCheck(DEVICE).check("crossEntropy", tape -> CrossEntropy.meanLoss(tape, logits, targets), logits);
    }

    @Test
    void gradientIsSoftmaxMinusOneHotOverCount() {
        Tensor logits = RandomTensors.gaussian(DEVICE, 3, 2f, 2, 2, V); // leading shape [2,2]: N = 4
        int[] targets = {4, -100, 0, 6};
        Tape tape = Tape.training(DEVICE);
        Tensor loss = CrossEntropy.meanLoss(tape, logits, targets);
        tape.backward(loss);
        DEVICE.copyToHost(logits.grad());
        assertClose("dlogits", new CrossEntropyReference(targets, V).exactGradient(logits.data()), logits.grad(), 1e-7, 1e-5);
        for (int j = 0; j < V; j++) {
            assertClose("ignored row", new double[] {0}, new float[] {logits.grad()[V + j]}, 0, 0);
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        float[] values = new float[2 * V];
        for (int j = 0; j < V; j++) {
            values[j] = 1e4f - j;
            values[V + j] = j == 3 ? 1e4f : -1e4f;
        }
        int[] targets = {2, 3};
        Tensor logits = Tensor.of(DEVICE, true, values, 2, V);
        Tape tape = Tape.training(DEVICE);
        Tensor loss = CrossEntropy.meanLoss(tape, logits, targets);
        tape.backward(loss);
        loss.toHost();
        DEVICE.copyToHost(logits.grad());
        assertClose("loss of 1e4 logits", new double[] {new CrossEntropyReference(targets, V).value(values)}, loss.data(), 1e-6, 1e-5);
        assertClose("dlogits of 1e4 logits", new CrossEntropyReference(targets, V).exactGradient(values), logits.grad(), 1e-7, 1e-5);
    }

    @Test
    void ignoredTargetsCountNeitherInSumNorMean() {
        Tensor logits = RandomTensors.gaussian(DEVICE, 4, 1f, N, V);
        int[] targets = {-1, 2, -1, -1, 4};
        float loss = CrossEntropy.meanLoss(Tape.inference(DEVICE), logits, targets).toHost().data()[0];
        assertClose("loss with ignored rows", new double[] {new CrossEntropyReference(targets, V).value(logits.data())},
                new float[] {loss}, 1e-6, 1e-5);

        int[] none = {-1, -1, -1, -1, -1};
        Tape tape = Tape.training(DEVICE);
        Tensor all = CrossEntropy.meanLoss(tape, logits, none);
        tape.backward(all);
        DEVICE.copyToHost(logits.grad());
        assertClose("loss with every row ignored", new double[] {0}, all.toHost().data(), 0, 0);
        assertClose("gradient with every row ignored", new double[N * V], logits.grad(), 0, 0);
    }

    @Test
    void rejectsBadTargets() {
        Tensor logits = RandomTensors.gaussian(DEVICE, 5, 1f, N, V);
        Tape tape = Tape.inference(DEVICE);
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.meanLoss(tape, logits, new int[] {0, 1, 2, 3, V}));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.meanLoss(tape, logits, new int[] {0, 1}));
    }
}
