package org.moe4j.kernels.lib;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.moe4j.kernels.JvmDevice;

/**
 * Vector-API overrides of the per-element MoE kernels ({@link Dispatch}'s moves and the batched bias
 * of {@link Bias}), with the same parameters less the {@code KernelContext}. They work a row of
 * {@code D} (or {@code O}) floats at a time instead of one element per work-item, and do the same
 * float operations in the same order as the portable kernels (a multiply, then an add; never a
 * fused multiply-add), so the results are the same bits.
 */
public final class MoeSimd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private MoeSimd() {
    }

    /** Makes {@code device} run these overrides in place of the portable kernels. */
    public static void registerOn(JvmDevice device) {
        device.override(Dispatch::dispatch, MoeSimd::dispatch);
        device.override(Dispatch::dispatchBackward, MoeSimd::dispatchBackward);
        device.override(Dispatch::combine, MoeSimd::combine);
        device.override(Dispatch::combineBackwardOutput, MoeSimd::combineBackwardOutput);
        device.override(Bias::addBiasBatched, MoeSimd::addBiasBatched);
    }

    /** {@link Dispatch#dispatch}: a used slot's row is the token's row, an unused slot's row is zero. */
    public static void dispatch(float[] buf, float[] x, int[] slotAssign, int slots, int j, int d) {
        rows(slots, d, s -> {
            int a = slotAssign[s];
            if (a >= 0) {
                System.arraycopy(x, (a / j) * d, buf, s * d, d);
            } else {
                java.util.Arrays.fill(buf, s * d, s * d + d, 0f);
            }
        });
    }

    /** {@link Dispatch#dispatchBackward}: {@code dx[t] += Σ_j dbuf[slot of (t, j)]} over kept assignments. */
    public static void dispatchBackward(float[] dx, float[] dbuf, int[] choice, int[] slot, int n, int j,
                                        int capacity, int d) {
        rows(n, d, t -> {
            int i = 0;
            for (; i + VL <= d; i += VL) {
                FloatVector sum = FloatVector.zero(S);
                for (int r = 0; r < j; r++) {
                    int s = slot[t * j + r];
                    if (s >= 0) {
                        sum = sum.add(FloatVector.fromArray(S, dbuf, (choice[t * j + r] * capacity + s) * d + i));
                    }
                }
                FloatVector.fromArray(S, dx, t * d + i).add(sum).intoArray(dx, t * d + i);
            }
            for (; i < d; i++) {
                float sum = 0f;
                for (int r = 0; r < j; r++) {
                    int s = slot[t * j + r];
                    if (s >= 0) {
                        sum += dbuf[(choice[t * j + r] * capacity + s) * d + i];
                    }
                }
                dx[t * d + i] += sum;
            }
        });
    }

    /** {@link Dispatch#combine}: {@code y[t] = Σ_j w[t,j]·out[slot of (t, j)]} over kept assignments. */
    public static void combine(float[] y, float[] out, float[] weights, int[] choice, int[] slot, int n, int j,
                               int capacity, int d) {
        rows(n, d, t -> {
            int i = 0;
            for (; i + VL <= d; i += VL) {
                FloatVector sum = FloatVector.zero(S);
                for (int r = 0; r < j; r++) {
                    int a = t * j + r;
                    int s = slot[a];
                    if (s >= 0) {
                        FloatVector row = FloatVector.fromArray(S, out, (choice[a] * capacity + s) * d + i);
                        sum = sum.add(row.mul(weights[a]));
                    }
                }
                sum.intoArray(y, t * d + i);
            }
            for (; i < d; i++) {
                float sum = 0f;
                for (int r = 0; r < j; r++) {
                    int a = t * j + r;
                    int s = slot[a];
                    if (s >= 0) {
                        sum += weights[a] * out[(choice[a] * capacity + s) * d + i];
                    }
                }
                y[t * d + i] = sum;
            }
        });
    }

    /** {@link Dispatch#combineBackwardOutput}: {@code dout[slot] += w[a]·dy[t]} for the assignment in the slot. */
    public static void combineBackwardOutput(float[] dout, float[] dy, float[] weights, int[] slotAssign, int slots,
                                             int j, int d) {
        rows(slots, d, s -> {
            int a = slotAssign[s];
            if (a < 0) {
                return;
            }
            float w = weights[a];
            int from = (a / j) * d;
            int to = s * d;
            int i = 0;
            for (; i + VL <= d; i += VL) {
                FloatVector g = FloatVector.fromArray(S, dy, from + i).mul(w);
                FloatVector.fromArray(S, dout, to + i).add(g).intoArray(dout, to + i);
            }
            for (; i < d; i++) {
                dout[to + i] += w * dy[from + i];
            }
        });
    }

    /** {@link Bias#addBiasBatched}: {@code out[e,r] += bias[e]} row by row. */
    public static void addBiasBatched(float[] out, float[] bias, int batch, int rows, int o) {
        rows(batch * rows, o, row -> {
            int b = (row / rows) * o;
            int at = row * o;
            int i = 0;
            for (; i + VL <= o; i += VL) {
                FloatVector.fromArray(S, out, at + i).add(FloatVector.fromArray(S, bias, b + i)).intoArray(out, at + i);
            }
            for (; i < o; i++) {
                out[at + i] += bias[b + i];
            }
        });
    }

    /** Runs {@code body} for rows {@code 0 .. count-1} of {@code width} floats, split over the pool's threads. */
    private static void rows(int count, int width, IntConsumer body) {
        HostRanges.split(count, width, (from, to) -> {
            for (int r = from; r < to; r++) {
                body.accept(r);
            }
        });
    }
}
