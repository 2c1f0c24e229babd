package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;

class BiasTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void addsBiasToEveryRowAndSumsColumnsBack() {
        int n = 3;
        int o = 5;
        float[] out = new float[n * o];
        float[] bias = {1f, 2f, 3f, 4f, 5f};
        DEVICE.launch(Bias.grid(n, o), Bias::addBias, out, bias, n, o);
        float[] expected = new float[n * o];
        for (int i = 0; i < n * o; i++) {
            expected[i] = bias[i % o];
        }
        assertArrayEquals(expected, out);

        float[] dbias = {10f, 0f, 0f, 0f, 0f}; // accumulates
        DEVICE.launch(Bias.gridBackward(o), Bias::biasBackward, dbias, out, n, o);
        assertArrayEquals(new float[] {13f, 6f, 9f, 12f, 15f}, dbias);
    }
}
