package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Element-by-element kernels over flat arrays of {@code n} floats: sum, accumulation, scaling,
 * filling and broadcasting a scalar. One work-item computes one element; launch over
 * {@link #grid(int)}.
 */
public final class Elementwise {
    private Elementwise() {
    }

    /** One work-item per element. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /**
     * One work-item writes {@code out[i] = a[i] + b[i]}.
     *
     * <pre>
     * out (N)  written
     * a   (N)
     * b   (N)
     * </pre>
     */
    public static void add(KernelContext ctx, float[] out, float[] a, float[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[i] = a[i] + b[i];
    }

    /**
     * One work-item adds {@code x[i]} to {@code acc[i]}: the backward of a copy or a sum.
     *
     * <pre>
     * acc (N)  accumulated: acc[i] += x[i]
     * x   (N)
     * </pre>
     */
    public static void accumulate(KernelContext ctx, float[] acc, float[] x, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        acc[i] += x[i];
    }

    /**
     * One work-item multiplies {@code x[i]} by {@code s} in place (gradient clipping).
     *
     * <pre>
     * x (N)  modified: x[i] *= s
     * </pre>
     */
    public static void scale(KernelContext ctx, float[] x, float s, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        x[i] *= s;
    }

    /**
     * One work-item sets {@code x[i] = value}.
     *
     * <pre>
     * x (N)  written
     * </pre>
     */
    public static void fill(KernelContext ctx, float[] x, float value, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        x[i] = value;
    }

    /**
     * One work-item writes {@code out[i] = scalar[0] * s}: spreads a scalar that lives on the
     * device (a loss gradient, say) over {@code n} elements without a host round trip.
     *
     * <pre>
     * out    (N)  written
     * scalar (1)
     * </pre>
     */
    public static void broadcast(KernelContext ctx, float[] out, float[] scalar, float s, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[i] = scalar[0] * s;
    }
    /**
     * One work-item writes {@code out[i] = a[i] * b[i]}.
     *
     * <pre>
     * out (N)  written
     * a   (N)
     * b   (N)
     * </pre>
     */
    public static void multiply(KernelContext ctx, float[] out, float[] a, float[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[i] = a[i] * b[i];
    }

    /**
     * One work-item adds the gradient of one factor of a product: {@code da[i] += dout[i] * b[i]}.
     *
     * <pre>
     * da   (N)  accumulated
     * dout (N)
     * b    (N)  the other factor
     * </pre>
     */
    public static void multiplyBackward(KernelContext ctx, float[] da, float[] dout, float[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        da[i] += dout[i] * b[i];
    }
}
