package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tensor;

/**
 * A routing family: how gate probabilities are formed (softmax over {@link #groups()} groups of
 * consecutive experts) and how tokens are assigned to experts and capacity slots. Routing is
 * always of the global batch of all ranks ({@link TokenExchange}; one process is one rank).
 */
public interface ExpertRouter {

    /** Number of softmax groups: 1, or the number of prototypes. */
    int groups();

    /** Expert choices each token makes inside each group (k for top-k, 1 for prototyping); 0 for expert choice. */
    int choicesPerGroup();

    /** Slots per expert for {@code tokens} tokens at this capacity factor (at most {@code tokens}). */
    int capacity(int tokens, double capacityFactor);

    /**
     * Routes this rank's {@code probs (n,E)} (softmax per group) on the global batch; runs on the
     * device, and exchanges counts (or, for expert choice, probabilities) with the other ranks.
     *
     * @param probs not modified
     */
    Routed route(Device device, Tensor probs, double capacityFactor, TokenExchange exchange);

    /** Whether combine weights are renormalised over the kept experts. */
    default boolean renormalize() {
        return false;
    }

    /** Whether the load-balancing loss applies (it is 0 for expert choice). */
    default boolean balanceLoss() {
        return choicesPerGroup() > 0;
    }

    /**
     * A routed pass on one rank.
     *
     * @param plan         this rank's tokens routed on the global batch: global capacity and slots, global counts
     * @param globalTokens N, the tokens of all ranks
     * @param slotSources  (E/ep·C) the rank of the world whose token fills each global slot of this rank's
     *                     experts, −1 for none
     */
    record Routed(DispatchPlan plan, int globalTokens, int[] slotSources) {
    }

    /** The router {@code config} names. */
    static ExpertRouter of(MoeConfig config) {
        return switch (config.router()) {
            case "topk" -> new TopKRouter(config.experts(), config.k(), config.renormalize());
            case "switch" -> new TopKRouter(config.experts(), 1, config.renormalize());
            case "prototype" -> new PrototypeRouter(config.experts(), config.k());
            case "expert_choice" -> new ExpertChoiceRouter(config.experts());
            default -> throw new IllegalArgumentException("moe.router=" + config.router()
                    + " is not allowed: must be one of " + MoeConfig.ROUTERS);
        };
    }

    /** {@code ceil(x)} as a slot count in {@code [1, tokens]}. */
    static int clampCapacity(double x, int tokens) {
        return (int) Math.max(1, Math.min(tokens, Math.ceil(x)));
    }
}
