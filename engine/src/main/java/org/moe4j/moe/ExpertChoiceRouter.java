package org.moe4j.moe;

import java.util.Arrays;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Router;
import org.moe4j.tensor.Tensor;

/**
 * Expert choice routing: a softmax over all E experts per token, then each expert takes the
 * {@code C = ceil(N·capacityFactor/E)} tokens with the largest probability for it (ties to the
 * lower token index). A token may be taken by several experts or by none. There is no
 * load-balancing loss: every expert is full by construction.
 */
public final class ExpertChoiceRouter implements ExpertRouter {
    private final int experts;

    public ExpertChoiceRouter(int experts) {
        this.experts = experts;
    }

    @Override
    public int groups() {
        return 1;
    }

    @Override
    public int choicesPerGroup() {
        return 0;
    }

    @Override
    public int capacity(int tokens, double capacityFactor) {
        return ExpertRouter.clampCapacity(tokens * capacityFactor / experts, tokens);
    }

    @Override
    public DispatchPlan plan(Device device, Tensor probs, double capacityFactor) {
        int n = probs.dim(0);
        probs.requireShape("router probabilities", n, experts);
        int capacity = capacity(n, capacityFactor);
        int[] choice = device.allocateInts(n * experts);
        int[] slot = device.allocateInts(n * experts);
        device.launch(Router.gridTokenExperts(n, experts), Router::expertChoice, choice, slot, probs.data(), n,
                experts, capacity);
        // Each expert takes exactly C <= N tokens.
        int[] counts = device.allocateInts(experts);
        Arrays.fill(counts, capacity);
        device.copyToDevice(counts);
        int[] slotAssign = DispatchPlan.invert(device, choice, slot, n, experts, experts, capacity);
        return new DispatchPlan(n, experts, experts, capacity, choice, slot, slotAssign, counts, counts);
    }
}
