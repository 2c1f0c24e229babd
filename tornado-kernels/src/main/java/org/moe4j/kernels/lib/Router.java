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

    /** One work-item per (token, group): {@link #maskGroups}. */
    public static Grid gridTokenGroups(int n, int groups) {
        return Grid.of(n * groups);
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

    /** {@link #combineWeights}: each kept assignment's score as it is. */
    public static final int WEIGHTS_RAW = 0;
    /** {@link #combineWeights}: divided by the sum over the token's kept assignments. */
    public static final int WEIGHTS_OVER_KEPT = 1;
    /** {@link #combineWeights}: divided by the sum over the token's chosen assignments, dropped ones included. */
    public static final int WEIGHTS_OVER_CHOSEN = 2;

    /**
     * One work-item writes the combine weights of token {@code t}: the score of each kept
     * assignment, 0 for a dropped one; with {@code normalize} {@link #WEIGHTS_OVER_KEPT} divided by
     * the sum of the kept scores (all 0 when none is kept), with {@link #WEIGHTS_OVER_CHOSEN} by the
     * sum of every chosen score (sigmoid gating).
     *
     * <pre>
     * weights (N,J)  written
     * probs   (N,E)
     * choice  (N,J)
     * slot    (N,J)
     * </pre>
     */
    public static void combineWeights(KernelContext ctx, float[] weights, float[] probs, int[] choice, int[] slot,
                                      int n, int e, int j, int normalize) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        float sum = 0f;
        for (int r = 0; r < j; r++) {
            if (normalize == WEIGHTS_OVER_CHOSEN || slot[t * j + r] >= 0) {
                sum += probs[t * e + choice[t * j + r]];
            }
        }
        for (int r = 0; r < j; r++) {
            int at = t * j + r;
            float w = 0f;
            if (slot[at] >= 0) {
                w = probs[t * e + choice[at]];
                if (normalize != WEIGHTS_RAW) {
                    w = w / sum;
                }
            }
            weights[at] = w;
        }
    }

    /**
     * One work-item adds the score gradient of token {@code t} from its combine-weight gradient:
     * {@code dprobs[t,choice] += dw} for kept assignments; normalised ({@code w_a = kept_a·p_a/S}, S
     * the sum {@link #combineWeights} divides by) {@code dprobs[t,choice_c] += (kept_c·dw_c − Σ_a dw_a·w_a) / S}
     * for every assignment c in S.
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
                                              int normalize) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        float sum = 0f;
        float dot = 0f;
        for (int r = 0; r < j; r++) {
            int at = t * j + r;
            if (normalize == WEIGHTS_OVER_CHOSEN || slot[at] >= 0) {
                sum += probs[t * e + choice[at]];
            }
            if (slot[at] >= 0) {
                dot += dweights[at] * weights[at];
            }
        }
        for (int r = 0; r < j; r++) {
            int at = t * j + r;
            boolean kept = slot[at] >= 0;
            if (normalize == WEIGHTS_RAW) {
                if (kept) {
                    dprobs[t * e + choice[at]] += dweights[at];
                }
            } else if (kept || normalize == WEIGHTS_OVER_CHOSEN) {
                dprobs[t * e + choice[at]] += ((kept ? dweights[at] : 0f) - dot) / sum;
            }
        }
    }

    /**
     * One work-item adds the per-expert bias to token {@code t}'s scores: the scores experts are
     * selected by under bias balancing (the combine weights use the scores without it).
     *
     * <pre>
     * out    (N,E)  written: scores + bias
     * scores (N,E)
     * bias   (E)
     * </pre>
     */
    public static void biasScores(KernelContext ctx, float[] out, float[] scores, float[] bias, int n, int e) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        for (int x = 0; x < e; x++) {
            out[t * e + x] = scores[t * e + x] + bias[x];
        }
    }

    /**
     * Group-limited routing, the groups' part: the E experts form {@code routeGroups} groups of
     * consecutive experts, a group's score is its best expert's, and each token keeps its
     * {@code topGroups} best groups (ties to the lower group). One work-item writes group
     * {@code g} of token {@code t}: the scores as they are in a kept group, −∞ in the others, so
     * that {@link #topK} then picks the token's experts within its groups.
     *
     * <pre>
     * out    (N,E)  written
     * scores (N,E)
     * </pre>
     */
    public static void maskGroups(KernelContext ctx, float[] out, float[] scores, int n, int e, int routeGroups,
                                  int topGroups) {
        int idx = ctx.globalIdx;
        if (idx >= n * routeGroups) {
            return;
        }
        int t = idx / routeGroups;
        int g = idx - t * routeGroups;
        int size = e / routeGroups;
        float mine = groupScore(scores, t, e, size, g);
        int ahead = 0;
        for (int h = 0; h < routeGroups; h++) {
            float other = groupScore(scores, t, e, size, h);
            if (other > mine || (other == mine && h < g)) {
                ahead++;
            }
        }
        boolean keep = ahead < topGroups;
        for (int i = g * size; i < (g + 1) * size; i++) {
            out[t * e + i] = keep ? scores[t * e + i] : Float.NEGATIVE_INFINITY;
        }
    }

    private static float groupScore(float[] scores, int t, int e, int size, int g) {
        float best = scores[t * e + g * size];
        for (int i = 1; i < size; i++) {
            best = Math.max(best, scores[t * e + g * size + i]);
        }
        return best;
    }

    /**
     * One work-item divides token {@code t}'s scores by their sum: the distribution the
     * load-balancing loss and the statistics see under sigmoid gating.
     *
     * <pre>
     * out    (N,E)  written
     * scores (N,E)  positive
     * </pre>
     */
    public static void normalizeRows(KernelContext ctx, float[] out, float[] scores, int n, int e) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        float sum = 0f;
        for (int x = 0; x < e; x++) {
            sum += scores[t * e + x];
        }
        for (int x = 0; x < e; x++) {
            out[t * e + x] = scores[t * e + x] / sum;
        }
    }

    /**
     * One work-item adds token {@code t}'s score gradient from its normalised scores' gradient:
     * {@code dscores[t,x] += (dout[t,x] − Σ_y dout[t,y]·out[t,y]) / Σ_y scores[t,y]}.
     *
     * <pre>
     * dscores (N,E)  accumulated
     * dout    (N,E)
     * out     (N,E)  the forward's output
     * scores  (N,E)
     * </pre>
     */
    public static void normalizeRowsBackward(KernelContext ctx, float[] dscores, float[] dout, float[] out,
                                             float[] scores, int n, int e) {
        int t = ctx.globalIdx;
        if (t >= n) {
            return;
        }
        float sum = 0f;
        float dot = 0f;
        for (int x = 0; x < e; x++) {
            sum += scores[t * e + x];
            dot += dout[t * e + x] * out[t * e + x];
        }
        for (int x = 0; x < e; x++) {
            dscores[t * e + x] += (dout[t * e + x] - dot) / sum;
        }
    }
}
