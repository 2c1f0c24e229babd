package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Mixture-of-Experts routing: which experts each token goes to, into which slot of an expert's
 * capacity, and with what combine weight. The gate probabilities come from a softmax over each
 * token's router logits, per group of consecutive experts ({@link Softmax} on a {@code (N·groups, G)}
 * view); top-k routing has one group of all {@code E} experts, k top-1 prototyping has {@code k}.
 *
 * <p>Assignments are kept per token in a {@code (N,J)} layout: {@code choice[t·J + j]} is the expert of
 * the token's j-th assignment and {@code slot[t·J + j]} its row in that expert's {@code C} rows of
 * the dispatch buffer, or −1 when capacity dropped it. Top-k and prototyping have {@code J = K}
 * (choices in rank order; for prototyping rank g is prototype g); expert choice has {@code J = E},
 * assignment j going to expert j.
 *
 * <p>Every kernel is deterministic: capacity is filled by a sequential scan per expert in the
 * documented priority order, ties go to the lower index, and sums run in a fixed order.
 */
public final class Router {
    private Router() {
    }

    /** One work-item per token: {@link #topK}, {@link #combineWeights}, {@link #combineWeightsBackward}. */
    public static Grid gridTokens(int n) {
        return Grid.of(n);
    }

    /** One work-item per expert: {@link #assignCapacity}. */
    public static Grid gridExperts(int e) {
        return Grid.of(e, 1);
    }

    /** One work-item per (token, expert): {@link #expertChoice}. */
    public static Grid gridTokenExperts(int n, int e) {
        return Grid.of(n * e);
    }

    /**
     * One work-item chooses the experts of token {@code t}: in each of {@code groups} groups of
     * {@code G = E/groups} consecutive experts, the {@code kPerGroup} largest probabilities in
     * decreasing order, ties to the lower expert index.
     *
     * <pre>
     * choice (N, groups·kPerGroup)  written: choice[t·J + g·kPerGroup + r] = expert of rank r in group g
     * probs  (N,E)
     * </pre>
     */
    public static void topK(KernelContext ctx, int[] choice, float[] probs, int n, int e, int groups, int kPerGroup) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        int size = e / groups;
        int j = groups * kPerGroup;
        for (int g = 0; g < groups; g++) {
            int first = g * size;
            float prevP = 0f;
            int prevIdx = -1;
            for (int r = 0; r < kPerGroup; r++) {
                // The next expert in the order (p descending, index ascending) after the previous pick.
                int best = -1;
                float bestP = 0f;
                for (int i = first; i < first + size; i++) {
                    float p = probs[t * e + i];
                    boolean after = prevIdx < 0 || p < prevP || (p == prevP && i > prevIdx);
                    if (after && (best < 0 || p > bestP)) {
                        best = i;
                        bestP = p;
                    }
                }
                choice[t * j + g * kPerGroup + r] = best;
                prevP = bestP;
                prevIdx = best;
            }
        }
    }

    /**
     * One work-item counts expert {@code x}'s assignments by choice rank: what a rank tells the
     * others before capacity is assigned.
     *
     * <pre>
     * counts (J,E)  written: counts[r·E + x] = tokens whose choice of rank r is x
     * choice (N,J)
     * </pre>
     */
    public static void countChoices(KernelContext ctx, int[] counts, int[] choice, int n, int e, int j) {
        int x = ctx.globalIdx;
        if (x >= e) {
            return;
        }
        for (int r = 0; r < j; r++) {
            int count = 0;
            for (int t = 0; t < n; t++) {
                count += choice[t * j + r] == x ? 1 : 0;
            }
            counts[r * e + x] = count;
        }
    }

    /**
     * One work-item fills the capacity of expert {@code x} with this rank's assignments, in the
     * priority order of the whole batch: choice rank by choice rank ({@code r} outer), token by
     * token within a rank, ranks of the batch in rank order. The assignments of the other ranks
     * that come before this rank's of choice rank r are {@code others[r·E + x]} (all zero in one
     * process); this rank's take the slots after them, and those at or past {@code capacity} are
     * dropped.
     *
     * <pre>
     * slot        (N,J)  written where choice == x: the slot, or −1 when dropped
     * chosen      (E)    written: chosen[x] = assignments to x before capacity, every rank's
     * kept        (E)    written: kept[x] = min(chosen[x], capacity)
     * choice      (N,J)
     * others      (J,E)  the other ranks' assignments to x ahead of this rank's of each choice rank
     * otherTotals (E)    the other ranks' assignments to x
     * </pre>
     */
    public static void assignCapacity(KernelContext ctx, int[] slot, int[] chosen, int[] kept, int[] choice,
                                      int[] others, int[] otherTotals, int n, int e, int j, int capacity) {
        int x = ctx.globalIdx;
        if (x >= e) {
            return;
        }
        int mine = 0;
        for (int r = 0; r < j; r++) {
            int first = others[r * e + x];
            for (int t = 0; t < n; t++) {
                int at = t * j + r;
                if (choice[at] == x) {
                    int s = first + mine;
                    slot[at] = s < capacity ? s : -1;
                    mine++;
                }
            }
        }
        int all = mine + otherTotals[x];
        chosen[x] = all;
        kept[x] = Math.min(all, capacity);
    }

    /**
     * Expert choice: one work-item decides whether expert {@code x} takes token {@code t}. Each expert
     * takes the {@code capacity} tokens with the largest {@code p[:,x]}, ties to the lower token
     * index; the token's rank in that order is its slot.
     *
     * <pre>
     * choice (N,E)  written: choice[t·E + x] = x
     * slot   (N,E)  written: slot[t·E + x] = rank of t for x, or −1 when rank >= capacity
     * probs  (N,E)
     * </pre>
     */
    public static void expertChoice(KernelContext ctx, int[] choice, int[] slot, float[] probs, int n, int e,
                                    int capacity) {
        int idx = ctx.globalIdx;
        if (idx >= n * e) {
            return;
        }
        int t = idx / e;
        int x = idx - t * e;
        float p = probs[idx];
        int rank = 0;
        for (int u = 0; u < n; u++) {
            float q = probs[u * e + x];
            if (q > p || (q == p && u < t)) {
                rank++;
            }
        }
        choice[idx] = x;
        slot[idx] = rank < capacity ? rank : -1;
    }

    /**
     * One work-item writes the combine weights of token {@code t}: the probability of each kept
     * assignment, 0 for a dropped one; with {@code renormalize != 0}, divided by the sum of the kept
     * probabilities (all 0 when none is kept).
     *
     * <pre>
     * weights (N,J)  written
     * probs   (N,E)
     * choice  (N,J)
     * slot    (N,J)
     * </pre>
     */
    public static void combineWeights(KernelContext ctx, float[] weights, float[] probs, int[] choice, int[] slot,
                                      int n, int e, int j, int renormalize) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        float sum = 0f;
        for (int r = 0; r < j; r++) {
            if (slot[t * j + r] >= 0) {
                sum += probs[t * e + choice[t * j + r]];
            }
        }
        for (int r = 0; r < j; r++) {
            int at = t * j + r;
            float w = 0f;
            if (slot[at] >= 0) {
                w = probs[t * e + choice[at]];
                if (renormalize != 0) {
                    w = w / sum;
                }
            }
            weights[at] = w;
        }
    }

    /**
     * One work-item adds the probability gradient of token {@code t} from its combine-weight
     * gradient: {@code dprobs[t,choice] += dw} for kept assignments, and with renormalisation
     * ({@code w = p/S}) {@code dprobs[t,choice_j] += (dw_j − Σ_i dw_i·w_i) / S}.
     *
     * <pre>
     * dprobs   (N,E)  accumulated
     * dweights (N,J)
     * weights  (N,J)  the forward's output
     * probs    (N,E)
     * choice   (N,J)
     * slot     (N,J)
     * </pre>
     */
    public static void combineWeightsBackward(KernelContext ctx, float[] dprobs, float[] dweights, float[] weights,
                                              float[] probs, int[] choice, int[] slot, int n, int e, int j,
                                              int renormalize) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        float sum = 0f;
        float dot = 0f;
        for (int r = 0; r < j; r++) {
            int at = t * j + r;
            if (slot[at] >= 0) {
                sum += probs[t * e + choice[at]];
                dot += dweights[at] * weights[at];
            }
        }
        for (int r = 0; r < j; r++) {
            int at = t * j + r;
            if (slot[at] >= 0) {
                float d = renormalize != 0 ? (dweights[at] - dot) / sum : dweights[at];
                dprobs[t * e + choice[at]] += d;
            }
        }
    }
}
