package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * The router's auxiliary losses and their gradients.
 *
 * <ul>
 *   <li>Load balancing, per group of {@code G = E/groups} experts: {@code f_x = chosen[x] / (N·k')}
 *       with {@code k'} choices per token in the group, {@code P_x = (1/N)·Σ_t p[t,x]},
 *       {@code aux = mean over groups of G·Σ_x f_x·P_x}. Gradients flow through P only.</li>
 *   <li>Router z-loss: {@code z = mean over (t, g) of logsumexp(h[t, group g])²}.</li>
 * </ul>
 */
public final class RouterLoss {
    private RouterLoss() {
    }

    /** A single work-item: {@link #auxLoss}, {@link #zLoss}. */
    public static Grid gridScalar() {
        return Grid.of(1, 1);
    }

    /** One work-item per element of {@code (N,E)}: {@link #auxLossBackward}. */
    public static Grid gridElements(int n, int e) {
        return Grid.of(n * e);
    }

    /** One work-item per (token, group): {@link #logSumExp}, {@link #zLossBackward}. */
    public static Grid gridTokenGroups(int n, int groups) {
        return Grid.of(n * groups);
    }

    /**
     * One work-item computes the load-balancing loss. Column sums of {@code probs} run over tokens
     * in order.
     *
     * <pre>
     * aux    (1)    written
     * probs  (N,E)
     * chosen (E)    assignments to each expert before capacity
     * </pre>
     */
    public static void auxLoss(KernelContext ctx, float[] aux, float[] probs, int[] chosen, int n, int e, int groups,
                               int choicesPerGroup) {
        if (ctx.globalIdx != 0) {
            return;
        }
        int size = e / groups;
        float total = 0f;
        for (int g = 0; g < groups; g++) {
            float sum = 0f;
            for (int x = g * size; x < (g + 1) * size; x++) {
                float column = 0f;
                for (int t = 0; t < n; t++) {
                    column += probs[t * e + x];
                }
                float f = chosen[x] / (float) (n * choicesPerGroup);
                sum += f * (column / n);
            }
            total += size * sum;
        }
        aux[0] = total / groups;
    }

    /**
     * One work-item adds {@code daux·G·f_x / (N·groups)} to {@code dprobs[t,x]}.
     *
     * <pre>
     * dprobs (N,E)  accumulated
     * daux   (1)    gradient of the loss
     * chosen (E)
     * </pre>
     */
    public static void auxLossBackward(KernelContext ctx, float[] dprobs, float[] daux, int[] chosen, int n, int e,
                                       int groups, int choicesPerGroup) {
        int idx = ctx.globalIdx;
        if (idx >= n * e) {
            return;
        }
        int x = idx % e;
        int size = e / groups;
        float f = chosen[x] / (float) (n * choicesPerGroup);
        dprobs[idx] += daux[0] * (size * f / ((float) n * groups));
    }

    /**
     * One work-item computes the sequence-wise load-balancing loss (DeepSeek-V3): the mean over the
     * {@code B = N/T} sequences of {@link #auxLoss} taken within each sequence, with
     * {@code f_{b,x} = (choices of x in sequence b) / (T·choicesPerGroup)} counted from
     * {@code choice} (before capacity) and {@code P_{b,x}} the sequence's mean probability.
     *
     * <pre>
     * aux    (1)    written
     * probs  (N,E)
     * choice (N,J)  J = groups·choicesPerGroup
     * </pre>
     */
    public static void auxLossSequence(KernelContext ctx, float[] aux, float[] probs, int[] choice, int n, int e,
                                       int groups, int choicesPerGroup, int seqLen) {
        if (ctx.globalIdx != 0) {
            return;
        }
        int size = e / groups;
        int j = groups * choicesPerGroup;
        int sequences = n / seqLen;
        float total = 0f;
        for (int b = 0; b < sequences; b++) {
            for (int x = 0; x < e; x++) {
                float column = 0f;
                for (int t = b * seqLen; t < (b + 1) * seqLen; t++) {
                    column += probs[t * e + x];
                }
                float f = countInSequence(choice, b, seqLen, j, x) / (float) (seqLen * choicesPerGroup);
                total += size * f * (column / seqLen);
            }
        }
        aux[0] = total / (groups * sequences);
    }

    /**
     * One work-item adds {@code daux·G·f_{b,x} / (T·groups·B)} to {@code dprobs[t,x]}, b the
     * sequence of token t.
     *
     * <pre>
     * dprobs (N,E)  accumulated
     * daux   (1)
     * choice (N,J)
     * </pre>
     */
    public static void auxLossSequenceBackward(KernelContext ctx, float[] dprobs, float[] daux, int[] choice, int n,
                                               int e, int groups, int choicesPerGroup, int seqLen) {
        int idx = ctx.globalIdx;
        if (idx >= n * e) {
            return;
        }
        int t = idx / e;
        int x = idx - t * e;
        int size = e / groups;
        int j = groups * choicesPerGroup;
        int sequences = n / seqLen;
        float f = countInSequence(choice, t / seqLen, seqLen, j, x) / (float) (seqLen * choicesPerGroup);
        dprobs[idx] += daux[0] * (size * f / ((float) seqLen * groups * sequences));
    }

    /** How many of sequence b's assignments chose expert x. */
    private static int countInSequence(int[] choice, int b, int seqLen, int j, int x) {
        int count = 0;
        for (int a = b * seqLen * j; a < (b + 1) * seqLen * j; a++) {
            count += choice[a] == x ? 1 : 0;
        }
        return count;
    }

    /**
     * One work-item writes the log-sum-exp of token {@code t}'s logits in group {@code g}, the group
     * maximum subtracted first.
     *
     * <pre>
     * lse    (N,groups)  written
     * logits (N,E)
     * </pre>
     */
    public static void logSumExp(KernelContext ctx, float[] lse, float[] logits, int n, int e, int groups) {
        int idx = ctx.globalIdx;
        if (idx >= n * groups) {
            return;
        }
        int t = idx / groups;
        int g = idx - t * groups;
        int size = e / groups;
        int from = t * e + g * size;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, logits[from + i]);
        }
        float sum = 0f;
        for (int i = 0; i < size; i++) {
            sum += (float) Math.exp(logits[from + i] - max);
        }
        lse[idx] = max + (float) Math.log(sum);
    }

    /**
     * One work-item writes {@code z = (1/count)·Σ lse²}, summed in index order.
     *
     * <pre>
     * z   (1)      written
     * lse (count)
     * </pre>
     */
    public static void zLoss(KernelContext ctx, float[] z, float[] lse, int count) {
        if (ctx.globalIdx != 0) {
            return;
        }
        float sum = 0f;
        for (int i = 0; i < count; i++) {
            sum += lse[i] * lse[i];
        }
        z[0] = sum / count;
    }

    /**
     * One work-item adds the z-loss gradient of token {@code t}'s logits in group {@code g}:
     * {@code dlogits[i] += dz·2·lse/(N·groups)·softmax_i}.
     *
     * <pre>
     * dlogits (N,E)       accumulated
     * dz      (1)
     * logits  (N,E)
     * lse     (N,groups)  the forward's log-sum-exps
     * </pre>
     */
    public static void zLossBackward(KernelContext ctx, float[] dlogits, float[] dz, float[] logits, float[] lse,
                                     int n, int e, int groups) {
        int idx = ctx.globalIdx;
        if (idx >= n * groups) {
            return;
        }
        int t = idx / groups;
        int g = idx - t * groups;
        int size = e / groups;
        int from = t * e + g * size;
        float l = lse[idx];
        float scale = dz[0] * 2f * l / ((float) n * groups);
        for (int i = 0; i < size; i++) {
            dlogits[from + i] += scale * (float) Math.exp(logits[from + i] - l);
        }
    }
}
