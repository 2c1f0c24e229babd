package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.moe4j.testing.Close.assertClose;

import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class AttentionTest {
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-5;

    private static final JvmDevice DEVICE = new JvmDevice(2, false);

    @AfterAll
    static void closeDevice() {
        DEVICE.close();
    }

    @Test
    void forwardMatchesDoubleReference() {
        int[][] shapes = {{2, 5, 6, 2}, {1, 7, 8, 4}, {3, 1, 4, 1}, {2, 9, 12, 3}};
        for (int[] s : shapes) {
            int B = s[0], T = s[1], D = s[2], H = s[3];
            float[] x = uniform(B * T * 3 * D, 1f, 7 + B * 31 + T);
            Tensor qkv = Tensor.of(DEVICE, false, x, B, T, 3 * D);
            Tensor out = Attention.causalSelfAttention(Tape.inference(DEVICE), qkv, H).toHost();
            assertArrayEquals(new int[] {B, T, D}, out.shape());
            assertClose("out " + Arrays.toString(s), reference(x, B, T, D, H), out.data(), ATOL, RTOL);
        }
    }

    @Test
    void savedProbabilitiesAreCausalAndNormalized() {
        int B = 2, T = 5, D = 6, H = 3;
        float[] x = uniform(B * T * 3 * D, 2f, 11);
        float[] out = new float[B * T * D];
        float[] att = new float[B * H * T * T];
        DEVICE.launch(org.moe4j.kernels.lib.Attention.grid(B, T, H),
                org.moe4j.kernels.lib.Attention::attentionForward, out, att, x, B, T, D, H);
        for (int row = 0; row < B * H * T; row++) {
            int t = row % T;
            double sum = 0;
            for (int t2 = 0; t2 < T; t2++) {
                float p = att[row * T + t2];
                if (t2 > t) {
                    assertEquals(0f, p, "att row " + row + " masked entry " + t2);
                } else {
                    assertTrue(p > 0f && p <= 1f, "att row " + row + " entry " + t2 + " = " + p);
                }
                sum += p;
            }
            assertEquals(1.0, sum, 1e-6, "att row " + row + " sum");
        }
    }

    @Test
    void laterTokensDoNotChangeEarlierOutputs() {
        int B = 2, T = 6, D = 8, H = 2;
        float[] x = uniform(B * T * 3 * D, 1f, 21);
        float[] base = forward(x, B, T, D, H);
        SplitMix64 random = new SplitMix64(22);
        for (int t = 1; t < T; t++) {
            float[] changed = x.clone();
            for (int c = 0; c < 3 * D; c++) { // token t of sequence 0 only
                changed[t * 3 * D + c] = random.nextFloat() * 2f - 1f;
            }
            float[] out = forward(changed, B, T, D, H);
            assertArrayEquals(Arrays.copyOf(base, t * D), Arrays.copyOf(out, t * D),
                    "outputs of tokens < " + t + " of sequence 0");
            assertArrayEquals(Arrays.copyOfRange(base, T * D, 2 * T * D), Arrays.copyOfRange(out, T * D, 2 * T * D),
                    "outputs of sequence 1");
            assertFalse(Arrays.equals(Arrays.copyOfRange(base, t * D, (t + 1) * D),
                    Arrays.copyOfRange(out, t * D, (t + 1) * D)), "output of token " + t + " itself must change");
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        int[][] shapes = {{2, 5, 6, 2}, {1, 4, 8, 4}};
        for (int[] s : shapes) {
            int B = s[0], T = s[1], D = s[2], H = s[3];
            Tensor qkv = Tensor.of(DEVICE, true, uniform(B * T * 3 * D, 1f, 41 + T), B, T, 3 * D);
            new GradCheck(DEVICE).check("attention " + Arrays.toString(s),
                    tape -> Attention.causalSelfAttention(tape, qkv, H), qkv);
        }
    }

    @Test
    void backwardAccumulatesIntoExistingGradient() {
        int B = 1, T = 4, D = 6, H = 2;
        float[] x = uniform(B * T * 3 * D, 1f, 51);
        float[] dout = uniform(B * T * D, 1f, 52);
        float[] fresh = gradient(DEVICE, x, dout, B, T, D, H, null);
        float[] prior = uniform(x.length, 1f, 53);
        float[] accumulated = gradient(DEVICE, x, dout, B, T, D, H, prior);
        for (int i = 0; i < x.length; i++) {
            assertEquals(prior[i] + fresh[i], accumulated[i], 1e-5, "dqkv[" + i + "]");
        }
    }

    @Test
    void backwardIsDeterministicAcrossRunsAndThreadCounts() {
        // B*T*H = 256 work-items: several work-groups, so two threads really split the launch.
        int B = 4, T = 16, D = 16, H = 4;
        float[] x = uniform(B * T * 3 * D, 1f, 61);
        float[] dout = uniform(B * T * D, 1f, 62);
        float[] first = gradient(DEVICE, x, dout, B, T, D, H, null);
        float[] second = gradient(DEVICE, x, dout, B, T, D, H, null);
        assertArrayEquals(first, second, "two runs on 2 threads");
        try (JvmDevice single = new JvmDevice(1, false)) {
            assertArrayEquals(first, gradient(single, x, dout, B, T, D, H, null), "1 thread vs 2 threads");
        }
    }

    @Test
    void rejectsBadShapes() {
        Tape tape = Tape.inference(DEVICE);
        assertMessage("[2, 18]", () -> Attention.causalSelfAttention(tape, Tensor.zeros(DEVICE, false, 2, 18), 2));
        assertMessage("got 7", () -> Attention.causalSelfAttention(tape, Tensor.zeros(DEVICE, false, 1, 2, 7), 1));
        assertMessage("got 0", () -> Attention.causalSelfAttention(tape, Tensor.zeros(DEVICE, false, 1, 2, 0), 1));
        assertMessage("heads=4 must be positive and divide D=6",
                () -> Attention.causalSelfAttention(tape, Tensor.zeros(DEVICE, false, 1, 2, 18), 4));
        assertMessage("heads=0",
                () -> Attention.causalSelfAttention(tape, Tensor.zeros(DEVICE, false, 1, 2, 18), 0));
    }

    private static void assertMessage(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
    }

    private static float[] forward(float[] x, int B, int T, int D, int H) {
        Tensor qkv = Tensor.of(DEVICE, false, x, B, T, 3 * D);
        return Attention.causalSelfAttention(Tape.inference(DEVICE), qkv, H).toHost().data();
    }

    /** dL/dqkv for L = sum(dout * out), starting from {@code prior} (or zero). */
    private static float[] gradient(JvmDevice device, float[] x, float[] dout, int B, int T, int D, int H,
                                    float[] prior) {
        Tensor qkv = Tensor.of(device, true, x, B, T, 3 * D);
        if (prior != null) {
            System.arraycopy(prior, 0, qkv.grad(), 0, prior.length);
        }
        Tape tape = Tape.training(device);
        Tensor out = Attention.causalSelfAttention(tape, qkv, H);
        tape.backward(out, dout);
        device.copyToHost(qkv.grad());
        return qkv.grad().clone();
    }

    /** Causal self-attention of qkv (B,T,3D) in double, straight from the definition. */
    private static double[] reference(float[] qkv, int B, int T, int D, int H) {
        int hs = D / H;
        double[] out = new double[B * T * D];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    double[] p = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 <= t; t2++) {
                        double dot = 0;
                        for (int d = 0; d < hs; d++) {
                            dot += (double) qkv[(b * T + t) * 3 * D + h * hs + d]
                                    * qkv[(b * T + t2) * 3 * D + D + h * hs + d];
                        }
                        p[t2] = dot / Math.sqrt(hs);
                        max = Math.max(max, p[t2]);
                    }
                    double sum = 0;
                    for (int t2 = 0; t2 <= t; t2++) {
                        p[t2] = Math.exp(p[t2] - max);
                        sum += p[t2];
                    }
                    for (int d = 0; d < hs; d++) {
                        double acc = 0;
                        for (int t2 = 0; t2 <= t; t2++) {
                            acc += p[t2] / sum * qkv[(b * T + t2) * 3 * D + 2 * D + h * hs + d];
                        }
                        out[(b * T + t) * D + h * hs + d] = acc;
                    }
                }
            }
        }
        return out;
    }

    private static float[] uniform(int n, float scale, long seed) {
        SplitMix64 random = new SplitMix64(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (random.nextFloat() * 2f - 1f) * scale;
        }
        return values;
    }
}
