package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Pointwise activations and their gradients, one work-item per element; launch over
 * {@link #grid(int)}. GELU is the tanh approximation of GPT-2 (and llm.c):
 * {@code 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))}. SiLU is {@code x·σ(x)}. ReLU is
 * {@code max(x, 0)} (NaN stays NaN, as in PyTorch) and squared ReLU {@code max(x, 0)²} (Primer); their
 * gradient at 0 is 0. The sigmoid {@code σ(x) = 1/(1 + e^-x)} is the gate of sigmoid-gated MoE routers.
 */
public final class Activation {
    private static final float GELU_SCALE = 0.7978845608028654f; // sqrt(2/pi)
    private static final float GELU_CUBE = 0.044715f;

    private Activation() {
    }

    /** One work-item per element. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /**
     * One work-item computes {@code out[i] = gelu(inp[i])}.
     *
     * <pre>
     * out (N)  written
     * inp (N)
     * </pre>
     */
    public static void geluForward(KernelContext ctx, float[] out, float[] inp, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[i] = gelu(inp[i]);
    }

    /** {@code gelu(x)}; also the epilogue of {@link BatchedGemm#matmulBiasGelu}. */
    static float gelu(float x) {
        float cube = GELU_CUBE * x * x * x;
        return 0.5f * x * (1f + (float) Math.tanh(GELU_SCALE * (x + cube)));
    }

    /**
     * One work-item adds {@code gelu'(inp[i]) * dout[i]} to {@code dinp[i]}. The sech² term is
     * {@code 1 - tanh²}, which stays finite where {@code cosh} would overflow.
     *
     * <pre>
     * dinp (N)  accumulated
     * inp  (N)
     * dout (N)
     * </pre>
     */
    public static void geluBackward(KernelContext ctx, float[] dinp, float[] inp, float[] dout, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        dinp[i] += geluSlope(inp[i]) * dout[i];
    }

    /** {@code gelu'(x)}; also the epilogue of {@link BatchedGemm#matmulTransBGeluBackward}. */
    static float geluSlope(float x) {
        float cube = GELU_CUBE * x * x * x;
        float t = (float) Math.tanh(GELU_SCALE * (x + cube));
        float sech2 = 1f - t * t;
        return 0.5f * (1f + t) + x * 0.5f * sech2 * GELU_SCALE * (1f + 3f * GELU_CUBE * x * x);
    }

    /**
     * One work-item computes {@code out[i] = inp[i] * sigmoid(inp[i])}.
     *
     * <pre>
     * out (N)  written
     * inp (N)
     * </pre>
     */
    public static void siluForward(KernelContext ctx, float[] out, float[] inp, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        float x = inp[i];
        out[i] = x * sigmoid(x);
    }

    /**
     * One work-item adds {@code silu'(inp[i]) * dout[i]} to {@code dinp[i]}, with
     * {@code silu'(x) = σ(x)·(1 + x·(1 − σ(x)))}.
     *
     * <pre>
     * dinp (N)  accumulated
     * inp  (N)
     * dout (N)
     * </pre>
     */
    public static void siluBackward(KernelContext ctx, float[] dinp, float[] inp, float[] dout, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        float x = inp[i];
        float s = sigmoid(x);
        dinp[i] += s * (1f + x * (1f - s)) * dout[i];
    }

    /** {@code 1 / (1 + e^-x)}: 0 for very negative x (e^-x overflows to infinity), 1 for very positive. */
    private static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    /**
     * One work-item computes {@code out[i] = max(inp[i], 0)}.
     *
     * <pre>
     * out (N)  written
     * inp (N)
     * </pre>
     */
    public static void reluForward(KernelContext ctx, float[] out, float[] inp, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            out[i] = Math.max(inp[i], 0f);
        }
    }

    /**
     * One work-item adds {@code dout[i]} to {@code dinp[i]} where {@code inp[i] > 0}.
     *
     * <pre>
     * dinp (N)  accumulated
     * inp  (N)
     * dout (N)
     * </pre>
     */
    public static void reluBackward(KernelContext ctx, float[] dinp, float[] inp, float[] dout, int n) {
        int i = ctx.globalIdx;
        if (i < n && inp[i] > 0f) {
            dinp[i] += dout[i];
        }
    }

    /**
     * One work-item computes {@code out[i] = max(inp[i], 0)²}.
     *
     * <pre>
     * out (N)  written
     * inp (N)
     * </pre>
     */
    public static void squaredReluForward(KernelContext ctx, float[] out, float[] inp, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            float r = Math.max(inp[i], 0f);
            out[i] = r * r;
        }
    }

    /**
     * One work-item adds {@code 2·max(inp[i], 0)·dout[i]} to {@code dinp[i]}.
     *
     * <pre>
     * dinp (N)  accumulated
     * inp  (N)
     * dout (N)
     * </pre>
     */
    public static void squaredReluBackward(KernelContext ctx, float[] dinp, float[] inp, float[] dout, int n) {
        int i = ctx.globalIdx;
        if (i < n && inp[i] > 0f) {
            dinp[i] += 2f * inp[i] * dout[i];
        }
    }
    /**
     * One work-item computes {@code out[i] = σ(inp[i])}.
     *
     * <pre>
     * out (N)  written
     * inp (N)
     * </pre>
     */
    public static void sigmoidForward(KernelContext ctx, float[] out, float[] inp, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            out[i] = sigmoid(inp[i]);
        }
    }

    /**
     * One work-item adds {@code σ(x)·(1 − σ(x))·dout[i]} to {@code dinp[i]}, {@code x = inp[i]}.
     *
     * <pre>
     * dinp (N)  accumulated
     * inp  (N)
     * dout (N)
     * </pre>
     */
    public static void sigmoidBackward(KernelContext ctx, float[] dinp, float[] inp, float[] dout, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            float s = sigmoid(inp[i]);
            dinp[i] += s * (1f - s) * dout[i];
        }
    }
}
