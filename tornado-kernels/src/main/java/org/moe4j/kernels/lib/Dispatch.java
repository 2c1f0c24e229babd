package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Moving tokens to experts and back. The dispatch buffer {@code (E,C,D)} holds expert x's tokens
 * in its C rows (slots); {@code slotAssign[x·C + c]} is the assignment {@code t·J + j} in that slot,
 * or −1 for an unused slot (see {@link Router} for the {@code (N,J)} layout of {@code choice} and
 * {@code slot}). Every kernel writes only its own element, and the sums over a token's assignments
 * run in the order j = 0, 1, ..., so results do not depend on the schedule.
 */
public final class Dispatch {
    private Dispatch() {
    }

    /** One work-item per element. */
    public static Grid grid(int n) {
        return Grid.of(n);
    }

    /**
     * One work-item sets {@code a[i] = value}.
     *
     * <pre>
     * a (N)  written
     * </pre>
     */
    public static void fillInts(KernelContext ctx, int[] a, int value, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        a[i] = value;
    }

    /**
     * One work-item per assignment {@code a = t·J + j}: a kept one records itself in its slot.
     * {@code slotAssign} must hold −1 everywhere first ({@link #fillInts}).
     *
     * <pre>
     * slotAssign (E·C)  written where an assignment is kept
     * choice     (N,J)
     * slot       (N,J)
     * </pre>
     */
    public static void invertSlots(KernelContext ctx, int[] slotAssign, int[] choice, int[] slot, int n, int j,
                                   int capacity) {
        int a = ctx.globalIdx;
        if (a >= n * j) {
            return;
        }
        int s = slot[a];
        if (s >= 0) {
            slotAssign[choice[a] * capacity + s] = a;
        }
    }

    /**
     * One work-item writes one element of the dispatch buffer: the token's value in a used slot,
     * 0 in an unused one.
     *
     * <pre>
     * buf        (E,C,D)  written
     * x          (N,D)
     * slotAssign (E·C)
     * </pre>
     */
    public static void dispatch(KernelContext ctx, float[] buf, float[] x, int[] slotAssign, int slots, int j, int d) {
        int idx = ctx.globalIdx;
        if (idx >= slots * d) {
            return;
        }
        int s = idx / d;
        int a = slotAssign[s];
        buf[idx] = a >= 0 ? x[(a / j) * d + (idx - s * d)] : 0f;
    }

    /**
     * One work-item adds the gradient of {@code x[t,i]}: the sum of the buffer gradients of the
     * token's kept assignments, in order j = 0, 1, ...
     *
     * <pre>
     * dx     (N,D)    accumulated
     * dbuf   (E,C,D)
     * choice (N,J)
     * slot   (N,J)
     * </pre>
     */
    public static void dispatchBackward(KernelContext ctx, float[] dx, float[] dbuf, int[] choice, int[] slot, int n,
                                        int j, int capacity, int d) {
        int idx = ctx.globalIdx;
        if (idx >= n * d) {
            return;
        }
        int t = idx / d;
        int i = idx - t * d;
        float sum = 0f;
        for (int r = 0; r < j; r++) {
            int s = slot[t * j + r];
            if (s >= 0) {
                sum += dbuf[(choice[t * j + r] * capacity + s) * d + i];
            }
        }
        dx[idx] += sum;
    }

    /**
     * One work-item writes {@code y[t,i] = Σ_j w[t,j]·out[choice, slot, i]} over the token's kept
     * assignments in order; 0 for a token with none.
     *
     * <pre>
     * y       (N,D)    written
     * out     (E,C,D)  the experts' outputs
     * weights (N,J)
     * choice  (N,J)
     * slot    (N,J)
     * </pre>
     */
    public static void combine(KernelContext ctx, float[] y, float[] out, float[] weights, int[] choice, int[] slot,
                               int n, int j, int capacity, int d) {
        int idx = ctx.globalIdx;
        if (idx >= n * d) {
            return;
        }
        int t = idx / d;
        int i = idx - t * d;
        float sum = 0f;
        for (int r = 0; r < j; r++) {
            int a = t * j + r;
            int s = slot[a];
            if (s >= 0) {
                sum += weights[a] * out[(choice[a] * capacity + s) * d + i];
            }
        }
        y[idx] = sum;
    }

    /**
     * One work-item adds the gradient of one element of the experts' output:
     * {@code dout[x,c,i] += w[a]·dy[t,i]} for the assignment a in slot (x, c); nothing for an
     * unused slot.
     *
     * <pre>
     * dout       (E,C,D)  accumulated
     * dy         (N,D)
     * weights    (N,J)
     * slotAssign (E·C)
     * </pre>
     */
    public static void combineBackwardOutput(KernelContext ctx, float[] dout, float[] dy, float[] weights,
                                             int[] slotAssign, int slots, int j, int d) {
        int idx = ctx.globalIdx;
        if (idx >= slots * d) {
            return;
        }
        int s = idx / d;
        int a = slotAssign[s];
        if (a >= 0) {
            dout[idx] += weights[a] * dy[(a / j) * d + (idx - s * d)];
        }
    }

    /**
     * One work-item adds the gradient of one combine weight: {@code dw[t,j] += Σ_i dy[t,i]·out[choice,
     * slot, i]} for a kept assignment, in order i = 0, 1, ...
     *
     * <pre>
     * dweights (N,J)    accumulated
     * dy       (N,D)
     * out      (E,C,D)
     * choice   (N,J)
     * slot     (N,J)
     * </pre>
     */
    public static void combineBackwardWeights(KernelContext ctx, float[] dweights, float[] dy, float[] out,
                                              int[] choice, int[] slot, int n, int j, int capacity, int d) {
        int a = ctx.globalIdx;
        if (a >= n * j) {
            return;
        }
        int s = slot[a];
        if (s < 0) {
            return;
        }
        int t = a / j;
        int from = (choice[a] * capacity + s) * d;
        float sum = 0f;
        for (int i = 0; i < d; i++) {
            sum += dy[t * d + i] * out[from + i];
        }
        dweights[a] += sum;
    }
}
