package org.moe4j.kernels.lib;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.moe4j.kernels.JvmDevice;

/**
 * Whole-launch overrides of the hot one-element-per-work-item kernels ({@link Elementwise},
 * {@link Activation}, {@link Bias}), with the same parameters less the {@code KernelContext}. A
 * portable launch of these pays a call per element; these run contiguous ranges split over the
 * device's threads, with Vector-API loops where the operation is plain arithmetic and the portable
 * kernel's own expression (element by element) where it calls {@code Math.tanh}/{@code Math.exp}.
 * Every element gets the same float operations in the same order as in the portable kernel, so the
 * results are the same bits.
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

    /** {@link Activation#geluForward}, element by element with the portable kernel's expression. */
    public static void geluForward(float[] out, float[] inp, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = inp[i];
                float cube = 0.044715f * x * x * x;
                out[i] = 0.5f * x * (1f + (float) Math.tanh(0.7978845608028654f * (x + cube)));
            }
        });
    }

    /** {@link Activation#geluBackward}, element by element with the portable kernel's expression. */
    public static void geluBackward(float[] dinp, float[] inp, float[] dout, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = inp[i];
                float cube = 0.044715f * x * x * x;
                float t = (float) Math.tanh(0.7978845608028654f * (x + cube));
                float sech2 = 1f - t * t;
                float local = 0.5f * (1f + t) + x * 0.5f * sech2 * 0.7978845608028654f * (1f + 3f * 0.044715f * x * x);
                dinp[i] += local * dout[i];
            }
        });
    }

    /** {@link Activation#siluForward}. */
    public static void siluForward(float[] out, float[] inp, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = inp[i];
                out[i] = x * (1f / (1f + (float) Math.exp(-x)));
            }
        });
    }

    /** {@link Activation#siluBackward}. */
    public static void siluBackward(float[] dinp, float[] inp, float[] dout, int n) {
        HostRanges.split(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                float x = inp[i];
                float s = 1f / (1f + (float) Math.exp(-x));
                dinp[i] += s * (1f + x * (1f - s)) * dout[i];
            }
        });
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
