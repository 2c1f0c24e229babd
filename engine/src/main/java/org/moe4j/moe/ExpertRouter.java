package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tensor;

/**
 * A routing family: how gate probabilities are formed (softmax over {@link #groups()} groups of
 * consecutive experts) and how tokens are assigned to experts and capacity slots.
 */
public interface ExpertRouter {

    /** Number of softmax groups: 1, or the number of prototypes. */
    int groups();

    /** Expert choices each token makes inside each group (k for top-k, 1 for prototyping); 0 for expert choice. */
    int choicesPerGroup();

    /** Slots per expert for {@code tokens} tokens at this capacity factor (at most {@code tokens}). */
    int capacity(int tokens, double capacityFactor);

    /**
     * Routes {@code probs (N,E)} (softmax per group); runs on the device.
     *
     * @param probs not modified
     */
    DispatchPlan plan(Device device, Tensor probs, double capacityFactor);

    /** Whether combine weights are renormalised over the kept experts. */
    default boolean renormalize() {
        return false;
    }

    /** Whether the load-balancing loss applies (it is 0 for expert choice). */
    default boolean balanceLoss() {
        return choicesPerGroup() > 0;
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
