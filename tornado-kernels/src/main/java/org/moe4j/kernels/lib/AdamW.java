package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * The AdamW update of {@code torch.optim.AdamW} (decoupled weight decay), one work-item per
 * parameter; launch over {@link #grid(int)}.
 */
public final class AdamW {
    private AdamW() {
    }

    /** One work-item per parameter. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /**
     * One work-item updates one parameter {@code i} at step {@code t}:
     * <pre>
     * m      = beta1·m + (1 − beta1)·g
     * v      = beta2·v + (1 − beta2)·g²
     * mhat   = m / beta1Correction          (beta1Correction = 1 − beta1^t)
     * vhat   = v / beta2Correction          (beta2Correction = 1 − beta2^t)
     * param -= lr · (mhat / (sqrt(vhat) + eps) + weightDecay · param)
     * </pre>
     * which is torch's {@code param *= 1 − lr·wd} followed by its Adam step.
     *
     * <pre>
     * param (N)  modified
     * grad  (N)
     * m     (N)  modified: first moment
     * v     (N)  modified: second moment
     * </pre>
     */
    public static void update(KernelContext ctx, float[] param, float[] grad, float[] m, float[] v, float lr,
            float beta1, float beta2, float eps, float weightDecay, float beta1Correction, float beta2Correction,
            int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        float g = grad[i];
        float mi = beta1 * m[i] + (1f - beta1) * g;
        float vi = beta2 * v[i] + (1f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float mhat = mi / beta1Correction;
        float vhat = vi / beta2Correction;
        float p = param[i];
        param[i] = p - lr * (mhat / ((float) Math.sqrt(vhat) + eps) + weightDecay * p);
    }
}
