package org.moe4j.kernels.lib;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.moe4j.kernels.JvmDevice;

/**
 * Whole-launch overrides of the hot one-element-per-work-item kernels ({@link Elementwise},
 * {@link Activation}, {@link Bias}), with the same parameters less the {@code KernelContext}. A
 * portable launch of these pays a call per element; these run contiguous ranges split over the
 * device's threads, with Vector-API loops. Where the operation is plain arithmetic every element gets
 * the same float operations in the same order as in the portable kernel, so the results are the same
 * bits; the activations take the Vector API's tanh and exp (each within 1 ulp of {@code Math}'s,
 * and about 20 times faster than the scalar calls), so theirs are within a few ulps.
 */
public final class ElementwiseSimd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    private ElementwiseSimd() {
    }

    /** Makes {@code device} run these overrides in place of the portable kernels. */
    public static void registerOn(JvmDevice device) {
        device.override(Elementwise::fill, ElementwiseSimd::fill);
        device.override(Elementwise::add, ElementwiseSimd::add);
        device.override(Elementwise::accumulate, ElementwiseSimd::accumulate);
        device.override(Elementwise::scale, ElementwiseSimd::scale);
        device.override(Elementwise::multiply, ElementwiseSimd::multiply);
        device.override(Elementwise::multiplyBackward, ElementwiseSimd::multiplyBackward);
        device.override(Activation::geluForward, ElementwiseSimd::geluForward);
        device.override(Activation::geluBackward, ElementwiseSimd::geluBackward);
        device.override(Activation::siluForward, ElementwiseSimd::siluForward);
        device.override(Activation::siluBackward, ElementwiseSimd::siluBackward);
        device.override(Bias::addBias, ElementwiseSimd::addBias);
        device.override(Bias::biasBackwardBatched, ElementwiseSimd::biasBackwardBatched);
    }

    /** {@link Elementwise#fill} (zeroing gradients: a call per element cost more than the stores). */
    public static void fill(float[] x, float value, int n) {
        HostRanges.split(n, 1, (from, to) -> Arrays.fill(x, from, to, value));
    }

    /** {@link Elementwise#add}. */
    public static void add(float[] out, float[] a, float[] b, int n) {
        HostRanges.split(n, 1, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = a[i] + b[i];
            }
        });
    }

    /** {@link Elementwise#accumulate}. */
    public static void accumulate(float[] acc, float[] x, int n) {
        HostRanges.split(n, 1, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector.fromArray(S, acc, i).add(FloatVector.fromArray(S, x, i)).intoArray(acc, i);
            }
            for (; i < to; i++) {
                acc[i] += x[i];
            }
        });
    }

    /** {@link Elementwise#scale}. */
    public static void scale(float[] x, float s, int n) {
        HostRanges.split(n, 1, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector.fromArray(S, x, i).mul(s).intoArray(x, i);
            }
            for (; i < to; i++) {
                x[i] *= s;
            }
        });
    }

    /** {@link Elementwise#multiply}. */
    public static void multiply(float[] out, float[] a, float[] b, int n) {
        HostRanges.split(n, 1, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector.fromArray(S, a, i).mul(FloatVector.fromArray(S, b, i)).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = a[i] * b[i];
            }
        });
    }

    /** {@link Elementwise#multiplyBackward}. */
    public static void multiplyBackward(float[] da, float[] dout, float[] b, int n) {
        HostRanges.split(n, 1, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector g = FloatVector.fromArray(S, dout, i).mul(FloatVector.fromArray(S, b, i));
                FloatVector.fromArray(S, da, i).add(g).intoArray(da, i);
            }
            for (; i < to; i++) {
                da[i] += dout[i] * b[i];
            }
        });
    }

    /**
     * {@link Activation#geluForward} with the Vector API's tanh: within 1 ulp of {@code Math.tanh} (it
     * is the JIT's vector routine, about 20 times faster than the scalar call), so the result is
     * within a few ulps of the portable kernel's.
     */
    public static void geluForward(float[] out, float[] inp, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector x = FloatVector.fromArray(S, inp, i);
                geluOf(x).intoArray(out, i);
            }
            for (; i < to; i++) {
                float x = inp[i];
                float cube = 0.044715f * x * x * x;
                out[i] = 0.5f * x * (1f + (float) Math.tanh(0.7978845608028654f * (x + cube)));
            }
        });
    }

    /** {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, the portable kernel's expression. */
    static FloatVector geluOf(FloatVector x) {
        FloatVector cube = x.mul(0.044715f).mul(x).mul(x);
        FloatVector t = x.add(cube).mul(0.7978845608028654f).lanewise(VectorOperators.TANH);
        return x.mul(0.5f).mul(t.add(1f));
    }

    /** {@link Activation#geluBackward}, with the vector tanh as in {@link #geluForward}. */
    public static void geluBackward(float[] dinp, float[] inp, float[] dout, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector x = FloatVector.fromArray(S, inp, i);
                FloatVector g = geluSlope(x).mul(FloatVector.fromArray(S, dout, i));
                FloatVector.fromArray(S, dinp, i).add(g).intoArray(dinp, i);
            }
            for (; i < to; i++) {
                float x = inp[i];
                float cube = 0.044715f * x * x * x;
                float t = (float) Math.tanh(0.7978845608028654f * (x + cube));
                float sech2 = 1f - t * t;
                float local = 0.5f * (1f + t) + x * 0.5f * sech2 * 0.7978845608028654f * (1f + 3f * 0.044715f * x * x);
                dinp[i] += local * dout[i];
            }
        });
    }

    /** The derivative of {@link #geluOf} at x, the portable kernel's expression. */
    static FloatVector geluSlope(FloatVector x) {
        FloatVector cube = x.mul(0.044715f).mul(x).mul(x);
        FloatVector t = x.add(cube).mul(0.7978845608028654f).lanewise(VectorOperators.TANH);
        FloatVector sech2 = t.mul(t).neg().add(1f);
        FloatVector inner = x.mul(3f * 0.044715f).mul(x).add(1f);
        return t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(sech2).mul(0.7978845608028654f).mul(inner));
    }

    /** {@link Activation#siluForward}, with the Vector API's exp (within 1 ulp of {@code Math.exp}). */
    public static void siluForward(float[] out, float[] inp, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector x = FloatVector.fromArray(S, inp, i);
                x.mul(sigmoidOf(x)).intoArray(out, i);
            }
            for (; i < to; i++) {
                float x = inp[i];
                out[i] = x * (1f / (1f + (float) Math.exp(-x)));
            }
        });
    }

    /** {@link Activation#siluBackward}, with the vector exp as in {@link #siluForward}. */
    public static void siluBackward(float[] dinp, float[] inp, float[] dout, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            int i = from;
            for (; i + VL <= to; i += VL) {
                FloatVector x = FloatVector.fromArray(S, inp, i);
                FloatVector sig = sigmoidOf(x);
                FloatVector local = sig.mul(x.mul(sig.neg().add(1f)).add(1f));
                FloatVector.fromArray(S, dinp, i).add(local.mul(FloatVector.fromArray(S, dout, i))).intoArray(dinp, i);
            }
            for (; i < to; i++) {
                float x = inp[i];
                float s = 1f / (1f + (float) Math.exp(-x));
                dinp[i] += s * (1f + x * (1f - s)) * dout[i];
            }
        });
    }

    /** {@code 1 / (1 + exp(-x))}. */
    private static FloatVector sigmoidOf(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /** {@link Bias#addBias}: {@code out[r] += bias} row by row. */
    public static void addBias(float[] out, float[] bias, int n, int o) {
        HostRanges.split(n, o, (from, to) -> {
            for (int r = from; r < to; r++) {
                int at = r * o;
                int i = 0;
                for (; i + VL <= o; i += VL) {
                    FloatVector.fromArray(S, out, at + i).add(FloatVector.fromArray(S, bias, i)).intoArray(out, at + i);
                }
                for (; i < o; i++) {
                    out[at + i] += bias[i];
                }
            }
        });
    }

    /** {@link Bias#biasBackwardBatched}: per matrix, column sums over rows in order, then added. */
    public static void biasBackwardBatched(float[] dbias, float[] dout, int batch, int rows, int o) {
        HostRanges.split(batch, (long) rows * o, (from, to) -> {
            float[] sum = new float[o];
            for (int e = from; e < to; e++) {
                java.util.Arrays.fill(sum, 0f);
                for (int r = 0; r < rows; r++) {
                    int at = (e * rows + r) * o;
                    int i = 0;
                    for (; i + VL <= o; i += VL) {
                        FloatVector.fromArray(S, sum, i).add(FloatVector.fromArray(S, dout, at + i)).intoArray(sum, i);
                    }
                    for (; i < o; i++) {
                        sum[i] += dout[at + i];
                    }
                }
                for (int i = 0; i < o; i++) {
                    dbias[e * o + i] += sum[i];
                }
            }
        });
    }
}
