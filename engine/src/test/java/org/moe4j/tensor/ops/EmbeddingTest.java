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

class EmbeddingTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);
    private static final int V = 5;
    private static final int D = 7;

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void gathersRowsIntoTheRequestedShape() {
        Tensor table = RandomTensors.gaussian(DEVICE, 1, 1f, V, D);
        int[] ids = {4, 0, 2, 2, 1, 4};
        Tensor out = Embedding.lookup(Tape.inference(DEVICE), table, ids, 2, 3).toHost();
        assertArrayEquals(new int[] {2, 3, D}, out.shape());
        double[] reference = new double[ids.length * D];
        for (int i = 0; i < ids.length; i++) {
            for (int k = 0; k < D; k++) {
                reference[i * D + k] = table.data()[ids[i] * D + k];
            }
        }
        assertClose("embedding", reference, out.data(), 0, 0);
        assertArrayEquals(new int[] {ids.length, D}, Embedding.lookup(Tape.inference(DEVICE), table, ids).shape());
    }

    @Test
    void gradCheckWithRepeatedIds() {
        Tensor table = RandomTensors.gaussian(DEVICE, 2, 1f, V, D);
        int[] ids = {3, 1, 3, 0, 3, 1};
        new GradCheck(DEVICE).check("embedding", tape -> Embedding.lookup(tape, table, ids), table);
    }

    @Test
    void backwardScatterAddsRepeatedRows() {
        Tensor table = RandomTensors.gaussian(DEVICE, 3, 1f, V, 2);
        int[] ids = {1, 3, 1};
        Tape tape = Tape.training(DEVICE);
        Tensor out = Embedding.lookup(tape, table, ids);
        tape.backward(out, new float[] {1f, 2f, 10f, 20f, 100f, 200f});
        DEVICE.copyToHost(table.grad());
        assertClose("dtable", new double[] {0, 0, 101, 202, 0, 0, 10, 20, 0, 0}, table.grad(), 0, 0);
    }

    @Test
    void rejectsBadIdsAndShapes() {
        Tensor table = RandomTensors.gaussian(DEVICE, 4, 1f, V, D);
        Tape tape = Tape.inference(DEVICE);
        assertThrows(IllegalArgumentException.class, () -> Embedding.lookup(tape, table, new int[] {0, V}));
        assertThrows(IllegalArgumentException.class, () -> Embedding.lookup(tape, table, new int[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> Embedding.lookup(tape, table, new int[] {0, 1, 2}, 2, 2));
    }
}
