package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tensor;

/**
 * k top-1 expert prototyping (M6-T): the E experts are split into k prototypes of {@code G = E/k}
 * consecutive experts, each with its own softmax over its G logits; every token goes to the top-1
 * expert of every prototype. Capacity per expert {@code C = ceil(N/G · capacityFactor)}, filled in
 * token order. Combine weights are the prototype probabilities, never renormalised.
 */
public final class PrototypeRouter implements ExpertRouter {
    private final int experts;
    private final int prototypes;

    public PrototypeRouter(int experts, int prototypes) {
        if (prototypes < 1 || experts % prototypes != 0) {
            throw new IllegalArgumentException("prototype routing: experts=" + experts
                    + " is not divisible by k=" + prototypes);
        }
        this.experts = experts;
        this.prototypes = prototypes;
    }

    @Override
    public int groups() {
        return prototypes;
    }

    @Override
    public int choicesPerGroup() {
        return 1;
    }

    @Override
    public int capacity(int tokens, double capacityFactor) {
        return ExpertRouter.clampCapacity((double) tokens / (experts / prototypes) * capacityFactor, tokens);
    }

    @Override
    public Routed route(Device device, Tensor probs, double capacityFactor, TokenExchange exchange) {
        return TopKRouter.route(device, probs, experts, prototypes, 1, this, capacityFactor, exchange);
    }
}
