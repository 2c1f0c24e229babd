package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class NormsTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);
    private static final int D = 7;

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    @Test
    void rmsNormMatchesFormula() {
        Tensor x = RandomTensors.gaussian(DEVICE, 1, 2f, 2, 3, D);
        Tensor w = RandomTensors.uniform(DEVICE, 2, 0.5f, 1.5f, D);
        float[] out = Norms.rmsNorm(Tape.inference(DEVICE), x, w).toHost().data();
        float[] in = x.data();
        double[] reference = new double[in.length];
        for (int r = 0; r < 6; r++) {
            double ss = 0;
            for (int j = 0; j < D; j++) {
                ss += (double) in[r * D + j] * in[r * D + j];
            }
            double rstd = 1 / Math.sqrt(ss / D + 1e-5);
            for (int j = 0; j < D; j++) {
                reference[r * D + j] = in[r * D + j] * rstd * w.data()[j];
            }
        }
        assertClose("rmsNorm", reference, out, 1e-6, 1e-5);
    }

    @Test
    void layerNormMatchesFormula() {
        Tensor x = RandomTensors.gaussian(DEVICE, 3, 2f, 2, 3, D);
        Tensor w = RandomTensors.uniform(DEVICE, 4, 0.5f, 1.5f, D);
        Tensor b = RandomTensors.uniform(DEVICE, 5, -0.5f, 0.5f, D);
        float[] out = Norms.layerNorm(Tape.inference(DEVICE), x, w, b).toHost().data();
        float[] in = x.data();
        double[] reference = new double[in.length];
        for (int r = 0; r < 6; r++) {
            double mean = 0;
            for (int j = 0; j < D; j++) {
                mean += in[r * D + j];
            }
            mean /= D;
            double var = 0;
            for (int j = 0; j < D; j++) {
                var += (in[r * D + j] - mean) * (in[r * D + j] - mean);
            }
            double rstd = 1 / Math.sqrt(var / D + 1e-5);
            for (int j = 0; j < D; j++) {
                reference[r * D + j] = (in[r * D + j] - mean) * rstd * w.data()[j] + b.data()[j];
            }
        }
        assertClose("layerNorm", reference, out, 1e-5, 1e-5);
    }

    @Test
    void rmsNormGradCheck() {
        Tensor x = RandomTensors.gaussian(DEVICE, 6, 1f, 5, D);
        Tensor w = RandomTensors.uniform(DEVICE, 7, 0.5f, 1.5f, D);
        new GradCheck(DEVICE).check("rmsNorm", tape -> Norms.rmsNorm(tape, x, w), x, w);
    }

    @Test
    void layerNormGradCheck() {
        Tensor x = RandomTensors.gaussian(DEVICE, 8, 1f, 5, D);
        Tensor w = RandomTensors.uniform(DEVICE, 9, 0.5f, 1.5f, D);
        Tensor b = RandomTensors.uniform(DEVICE, 10, -0.5f, 0.5f, D);
        new GradCheck(DEVICE).check("layerNorm", tape -> Norms.layerNorm(tape, x, w, b), x, w, b);
    }

    @Test
    void layerNormBiasGradientWithoutWeightGradient() {
        Tensor x = RandomTensors.gaussian(DEVICE, 11, 1f, 5, D);
        float[] ones = new float[D];
        java.util.Arrays.fill(ones, 1f);
        Tensor w = Tensor.of(DEVICE, false, ones, D);
        Tensor b = RandomTensors.uniform(DEVICE, 12, -0.5f, 0.5f, D);
        new GradCheck(DEVICE).check("layerNorm (bias only)", tape -> Norms.layerNorm(tape, x, w, b), x, b);
    }

    @Test
    void rejectsWeightOfWrongWidth() {
        Tensor x = RandomTensors.gaussian(DEVICE, 13, 1f, 5, D);
        Tensor w = RandomTensors.uniform(DEVICE, 14, 0.5f, 1.5f, D + 1);
        assertThrows(IllegalArgumentException.class, () -> Norms.rmsNorm(Tape.inference(DEVICE), x, w));
        assertThrows(IllegalArgumentException.class, () -> Norms.layerNorm(Tape.inference(DEVICE), x, w, w));
    }
}
