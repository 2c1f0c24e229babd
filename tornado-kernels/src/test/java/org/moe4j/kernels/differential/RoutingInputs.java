package org.moe4j.kernels.differential;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Valid inputs for the routing, dispatch and router-loss kernels, computed on the host from the
 * definitions in docs/moe.md: probabilities that are softmax outputs (per group of experts), choices
 * that are the top-k of those probabilities, and slot tables filled the way capacity fills them.
 * {@link RoutingInputsTest} checks them against the JVM router kernels.
 */
final class RoutingInputs {
    private RoutingInputs() {
    }

    /**
     * Router logits {@code (n, e)}: uniform in [-3, 3], or with {@code levels > 0} drawn from that
     * many values, so that equal logits (and so equal probabilities, exact ties) are common.
     */
    static float[] logits(SplittableRandom r, int n, int e, int levels) {
        float[] h = new float[n * e];
        for (int i = 0; i < h.length; i++) {
            h[i] = levels > 0 ? 0.75f * r.nextInt(levels) - 1f : (float) (6 * r.nextDouble() - 3);
        }
        return h;
    }

    /** The softmax of every group of {@code size} consecutive logits, max subtracted, as {@code Softmax.softmaxForward}. */
    static float[] softmax(float[] h, int size) {
        float[] p = new float[h.length];
        for (int from = 0; from < h.length; from += size) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < size; i++) {
                max = Math.max(max, h[from + i]);
            }
            float sum = 0f;
            for (int i = 0; i < size; i++) {
                p[from + i] = (float) Math.exp(h[from + i] - max);
                sum += p[from + i];
            }
            float inv = 1f / sum;
            for (int i = 0; i < size; i++) {
                p[from + i] *= inv;
            }
        }
        return p;
    }

    /** The log-sum-exp of every group of {@code size} consecutive logits, as {@code RouterLoss.logSumExp}. */
    static float[] logSumExp(float[] h, int size) {
        float[] lse = new float[h.length / size];
        for (int g = 0; g < lse.length; g++) {
            int from = g * size;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < size; i++) {
                max = Math.max(max, h[from + i]);
            }
            float sum = 0f;
            for (int i = 0; i < size; i++) {
                sum += (float) Math.exp(h[from + i] - max);
            }
            lse[g] = max + (float) Math.log(sum);
        }
        return lse;
    }

    /**
     * A routing decision after capacity.
     *
     * @param choice     (n, j) expert of each assignment
     * @param slot       (n, j) its slot, -1 when dropped
     * @param slotAssign (e·capacity) the assignment in each slot, -1 when unused
     * @param chosen     (e) assignments before capacity
     */
    record Plan(int n, int e, int j, int capacity, int[] choice, int[] slot, int[] slotAssign, int[] chosen) {
    }

    /**
     * Top-{@code kPerGroup} of every group of {@code e/groups} experts (probability descending, ties
     * to the lower expert), capacity filled rank by rank, tokens in order within a rank.
     */
    static Plan topK(float[] probs, int n, int e, int groups, int kPerGroup, int capacity) {
        int size = e / groups;
        int j = groups * kPerGroup;
        int[] choice = new int[n * j];
        for (int t = 0; t < n; t++) {
            for (int g = 0; g < groups; g++) {
                int tok = t;
                Integer[] order = new Integer[size];
                for (int i = 0; i < size; i++) {
                    order[i] = g * size + i;
                }
                Arrays.sort(order, (a, b) -> {
                    int byP = Float.compare(probs[tok * e + b], probs[tok * e + a]);
                    return byP != 0 ? byP : Integer.compare(a, b);
                });
                for (int r = 0; r < kPerGroup; r++) {
                    choice[t * j + g * kPerGroup + r] = order[r];
                }
            }
        }
        int[] slot = new int[n * j];
        int[] chosen = new int[e];
        int[] slotAssign = new int[e * capacity];
        Arrays.fill(slotAssign, -1);
        for (int r = 0; r < j; r++) {
            for (int t = 0; t < n; t++) {
                int at = t * j + r;
                int x = choice[at];
                int c = chosen[x]++;
                slot[at] = c < capacity ? c : -1;
                if (c < capacity) {
                    slotAssign[x * capacity + c] = at;
                }
            }
        }
        return new Plan(n, e, j, capacity, choice, slot, slotAssign, chosen);
    }

    /** Expert choice: expert x takes the {@code capacity} tokens of largest {@code p[:,x]}, ties to the lower token. */
    static Plan expertChoice(float[] probs, int n, int e, int capacity) {
        int[] choice = new int[n * e];
        int[] slot = new int[n * e];
        int[] slotAssign = new int[e * capacity];
        Arrays.fill(slotAssign, -1);
        for (int t = 0; t < n; t++) {
            for (int x = 0; x < e; x++) {
                float p = probs[t * e + x];
                int rank = 0;
                for (int u = 0; u < n; u++) {
                    float q = probs[u * e + x];
                    if (q > p || (q == p && u < t)) {
                        rank++;
                    }
                }
                choice[t * e + x] = x;
                slot[t * e + x] = rank < capacity ? rank : -1;
                if (rank < capacity) {
                    slotAssign[x * capacity + rank] = t * e + x;
                }
            }
        }
        int[] chosen = new int[e];
        Arrays.fill(chosen, capacity);
        return new Plan(n, e, e, capacity, choice, slot, slotAssign, chosen);
    }

    /** The combine weights of a plan, as {@code Router.combineWeights}: kept probabilities, optionally renormalised. */
    /** The weights of {@code Router.combineWeights} with {@code normalize} 0 (raw), 1 (over kept) or 2 (over chosen). */
    static float[] combineWeights(float[] probs, Plan plan, int normalize) {
        int j = plan.j();
        float[] w = new float[plan.n() * j];
        for (int t = 0; t < plan.n(); t++) {
            float sum = 0f;
            for (int r = 0; r < j; r++) {
                if (normalize == 2 || plan.slot()[t * j + r] >= 0) {
                    sum += probs[t * plan.e() + plan.choice()[t * j + r]];
                }
            }
            for (int r = 0; r < j; r++) {
                int at = t * j + r;
                if (plan.slot()[at] >= 0) {
                    float p = probs[t * plan.e() + plan.choice()[at]];
                    w[at] = normalize != 0 ? p / sum : p;
                }
            }
        }
        return w;
    }
}
