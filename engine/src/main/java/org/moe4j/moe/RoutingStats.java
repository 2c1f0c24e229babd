package org.moe4j.moe;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What one forward pass of an MoE layer did with its tokens: the numbers the M6-T questions are
 * about (load imbalance, drops, router confidence, auxiliary losses).
 *
 * @param tokens                 N, tokens in the pass
 * @param capacity               C, slots per expert
 * @param dropless               whether C was the pass's largest expert load (capacity factor 0), so
 *                               that nothing could be dropped
 * @param tokensPerExpertRouted  (E) assignments the router chose for each expert, before capacity
 * @param tokensPerExpert        (E) assignments each expert kept, after capacity
 * @param maxMeanLoad            max / mean of {@code tokensPerExpertRouted} (1 when balanced)
 * @param loadCv                 coefficient of variation (population std / mean) of the same
 * @param dropFraction           assignments dropped by capacity over assignments chosen; for expert
 *                               choice, the fraction of tokens no expert took
 * @param routerEntropy          mean over tokens (and prototypes) of the entropy, in nats, of the
 *                               router's probability distribution
 * @param auxLoss                load-balancing loss (0 for expert choice)
 * @param zLoss                  router z-loss
 * @param slotUse                kept assignments over the E·C slots the experts compute (padding cost)
 * @param destinationsPerToken   mean over tokens of the distinct expert groups ({@code route_groups}) a
 *                               token's kept assignments go to: what crosses nodes when a group is a node
 * @param balanceBias            (E) the selection bias of bias balancing; null without it
 */
public record RoutingStats(int tokens, int capacity, boolean dropless, double[] tokensPerExpertRouted, double[] tokensPerExpert,
                           double maxMeanLoad, double loadCv, double dropFraction, double routerEntropy,
                           double auxLoss, double zLoss, double slotUse, double destinationsPerToken,
                           double[] balanceBias) {

    /**
     * Statistics of a routed pass over the global batch, from the counts every rank knows and the
     * sums the ranks added up.
     *
     * @param routed        (E) assignments before capacity, every rank's
     * @param kept          (E) after capacity
     * @param untouched     tokens no expert took, for expert choice (whose drops count tokens); -1 otherwise
     * @param routerEntropy mean entropy per (token, group)
     */
    static RoutingStats of(int tokens, int capacity, boolean dropless, int[] routed, int[] kept, long untouched, double routerEntropy,
                           double aux, double z, double destinationsPerToken, float[] balanceBias) {
        int e = routed.length;
        double[] before = new double[e];
        double[] after = new double[e];
        double routedSum = 0;
        double keptSum = 0;
        double max = 0;
        for (int x = 0; x < e; x++) {
            before[x] = routed[x];
            after[x] = kept[x];
            routedSum += routed[x];
            keptSum += kept[x];
            max = Math.max(max, routed[x]);
        }
        double mean = routedSum / e;
        double variance = 0;
        for (double b : before) {
            variance += (b - mean) * (b - mean);
        }
        variance /= e;
        double maxMean = mean > 0 ? max / mean : 0;
        double cv = mean > 0 ? Math.sqrt(variance) / mean : 0;
        double drop = untouched >= 0 ? (tokens > 0 ? (double) untouched / tokens : 0)
                : routedSum > 0 ? (routedSum - keptSum) / routedSum : 0;
        double slotUse = capacity > 0 ? keptSum / ((double) e * capacity) : 0;
        double[] bias = null;
        if (balanceBias != null) {
            bias = new double[balanceBias.length];
            for (int x = 0; x < bias.length; x++) {
                bias[x] = balanceBias[x];
            }
        }
        return new RoutingStats(tokens, capacity, dropless, before, after, maxMean, cv, drop, routerEntropy, aux, z, slotUse,
                destinationsPerToken, bias);
    }

    /** Sum over tokens of the distinct groups of {@code groupSize} experts their kept assignments go to. */
    static long destinations(int[] choice, int[] slot, int n, int j, int groupSize) {
        long total = 0;
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < j; r++) {
                int a = t * j + r;
                if (slot[a] < 0) {
                    continue;
                }
                boolean seen = false;
                for (int q = 0; q < r; q++) {
                    int b = t * j + q;
                    seen |= slot[b] >= 0 && choice[b] / groupSize == choice[a] / groupSize;
                }
                total += seen ? 0 : 1;
            }
        }
        return total;
    }

    /** Tokens of {@code slot (N,J)} with no kept assignment. */
    static long untouched(int[] slot, int n, int j) {
        long none = 0;
        for (int t = 0; t < n; t++) {
            boolean any = false;
            for (int r = 0; r < j; r++) {
                any |= slot[t * j + r] >= 0;
            }
            none += any ? 0 : 1;
        }
        return none;
    }

    /** Sum over the {@code n·groups} (token, group) distributions of their entropy, in nats. */
    static double entropySum(float[] probs, int n, int e, int groups) {
        int size = e / groups;
        double total = 0;
        for (int t = 0; t < n; t++) {
            for (int g = 0; g < groups; g++) {
                double h = 0;
                for (int i = 0; i < size; i++) {
                    double p = probs[t * e + g * size + i];
                    if (p > 0) {
                        h -= p * Math.log(p);
                    }
                }
                total += h;
            }
        }
        return total;
    }

    /** The JSON form written to the metrics log, snake_case keys. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("tokens_per_expert_routed", tokensPerExpertRouted);
        map.put("tokens_per_expert", tokensPerExpert);
        map.put("capacity", capacity);
        map.put("dropless", dropless);
        map.put("max_mean_load", maxMeanLoad);
        map.put("load_cv", loadCv);
        map.put("drop_fraction", dropFraction);
        map.put("router_entropy", routerEntropy);
        map.put("aux_loss", auxLoss);
        map.put("z_loss", zLoss);
        map.put("slot_use", slotUse);
        map.put("destinations_per_token", destinationsPerToken);
        if (balanceBias != null) {
            map.put("balance_bias", balanceBias);
        }
        return map;
    }

    /** The short form for a progress line: {@code drop 3.1% cv 0.42}, or {@code dropless cv 0.42}. */
    public String summary() {
        String drops = dropless ? "dropless" : String.format(Locale.ROOT, "drop %.1f%%", 100 * dropFraction);
        return String.format(Locale.ROOT, "%s cv %.2f", drops, loadCv);
    }
}
