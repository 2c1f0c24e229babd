package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.moe4j.testing.Close.assertClose;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;

class AdamWTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    /**
     * torch.optim.AdamW's step written out in double, as torch computes it: decay first, then
     * {@code param -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)}.
     */
    private static void torchStep(double[] p, double[] g, double[] m, double[] v, double lr, double b1, double b2,
            double eps, double wd, int t) {
        double bc1 = 1 - Math.pow(b1, t);
        double bc2 = 1 - Math.pow(b2, t);
        for (int i = 0; i < p.length; i++) {
            p[i] *= 1 - lr * wd;
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
            p[i] -= lr / bc1 * m[i] / denom;
        }
    }

    @Test
    void threeStepsMatchTorchFormula() {
        int n = 13;
        float lr = 1e-2f;
        float b1 = 0.9f;
        float b2 = 0.95f;
        float eps = 1e-8f;
        float wd = 0.1f;
        float[] param = new float[n];
        float[] m = new float[n];
        float[] v = new float[n];
        double[] refP = new double[n];
        double[] refM = new double[n];
        double[] refV = new double[n];
        for (int i = 0; i < n; i++) {
            param[i] = (i - 6) * 0.25f;
            refP[i] = param[i];
        }
        for (int t = 1; t <= 3; t++) {
            float[] grad = new float[n];
            double[] refG = new double[n];
            for (int i = 0; i < n; i++) {
                grad[i] = (float) Math.sin(i * 1.3 + t) * (i == 4 ? 0f : 1f); // a zero gradient too
                refG[i] = grad[i];
            }
            float bc1 = (float) (1 - Math.pow(b1, t));
            float bc2 = (float) (1 - Math.pow(b2, t));
            DEVICE.launch(AdamW.grid(n), AdamW::update, param, grad, m, v, lr, b1, b2, eps, wd, bc1, bc2, n);
            torchStep(refP, refG, refM, refV, lr, b1, b2, eps, wd, t);
            assertClose("param after step " + t, refP, param, 1e-6, 1e-5);
            assertClose("m after step " + t, refM, m, 1e-6, 1e-5);
            assertClose("v after step " + t, refV, v, 1e-6, 1e-5);
        }
    }

    @Test
    void firstStepMovesEachParameterByAboutLr() {
        // With m = v = 0 and no decay the first bias-corrected step is lr·sign(g).
        float[] param = {1f, -2f, 3f};
        float[] grad = {0.5f, -7f, 1e-3f};
        float[] m = new float[3];
        float[] v = new float[3];
        DEVICE.launch(AdamW.grid(3), AdamW::update, param, grad, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0f,
                1f - 0.9f, 1f - 0.999f, 3);
        assertClose("param", new double[] {0.9, -1.9, 2.9}, param, 1e-6, 1e-5);
    }
}
