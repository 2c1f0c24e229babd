package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Router;
import org.moe4j.tensor.Tensor;

/**
 * Top-k routing (Switch is k = 1, GShard-style top-2 is k = 2): one softmax over all E experts,
 * each token's k most probable experts in decreasing order (ties to the lower index), capacity
 * {@code C = ceil(k·N/E · capacityFactor)} filled with all first choices in token order, then all
 * second choices, and so on.
 */
public final class TopKRouter implements ExpertRouter {
    private final int experts;
    private final int k;
    private final boolean renormalize;

    public TopKRouter(int experts, int k, boolean renormalize) {
        if (k < 1 || k > experts) {
            throw new IllegalArgumentException("top-k routing: k=" + k + " must be in [1, experts=" + experts + "]");
        }
        this.experts = experts;
        this.k = k;
        this.renormalize = renormalize;
    }

    @Override
    public int groups() {
        return 1;
    }

    @Override
    public int choicesPerGroup() {
        return k;
    }

    @Override
    public boolean renormalize() {
        return renormalize;
    }

    @Override
    public int capacity(int tokens, double capacityFactor) {
        return ExpertRouter.clampCapacity((double) k * tokens / experts * capacityFactor, tokens);
    }

    @Override
    public DispatchPlan plan(Device device, Tensor probs, double capacityFactor) {
        return plan(device, probs, experts, 1, k, capacity(probs.dim(0), capacityFactor));
    }

    /** Top-{@code kPerGroup} in each of {@code groups} groups, then capacity in rank-major token order. */
    static DispatchPlan plan(Device device, Tensor probs, int experts, int groups, int kPerGroup, int capacity) {
        int n = probs.dim(0);
        probs.requireShape("router probabilities", n, experts);
        int j = groups * kPerGroup;
        int[] choice = device.allocateInts(n * j);
        int[] slot = device.allocateInts(n * j);
        int[] chosen = device.allocateInts(experts);
        int[] kept = device.allocateInts(experts);
        device.launch(Router.gridTokens(n), Router::topK, choice, probs.data(), n, experts, groups, kPerGroup);
        device.launch(Router.gridExperts(experts), Router::assignCapacity, slot, chosen, kept, choice, n, experts, j,
                capacity);
        int[] slotAssign = DispatchPlan.invert(device, choice, slot, n, experts, j, capacity);
        return new DispatchPlan(n, experts, j, capacity, choice, slot, slotAssign, chosen, kept);
    }
}
