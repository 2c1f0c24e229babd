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
    public Routed route(Device device, Tensor probs, double capacityFactor, TokenExchange exchange) {
        return route(device, probs, experts, 1, k, this, capacityFactor, exchange);
    }

    /**
     * Top-{@code kPerGroup} in each of {@code groups} groups, then capacity in rank-major order over
     * the global batch: this rank's counts go to every rank ({@link CountTable}), and the capacity
     * kernel places this rank's assignments after the other ranks' ahead of them.
     *
     * @param router         the capacity rule; a capacity factor of 0 is dropless: the largest load
     *                       of the step, every rank's counted
     */
    static Routed route(Device device, Tensor probs, int experts, int groups, int kPerGroup, ExpertRouter router,
                        double capacityFactor, TokenExchange exchange) {
        int n = probs.dim(0);
        probs.requireShape("router probabilities", n, experts);
        int j = groups * kPerGroup;
        int[] choice = device.allocateInts(n * j);
        int[] counts = device.allocateInts(j * experts);
        device.launch(Router.gridTokens(n), Router::topK, choice, probs.data(), n, experts, groups, kPerGroup);
        device.launch(Router.gridExperts(experts), Router::countChoices, counts, choice, n, experts, j);
        device.copyToHost(counts);
        CountTable table = new CountTable(exchange.allGather(CountTable.block(n, counts)), exchange.worldSize(),
                exchange.rank(), j, experts);
        int c = capacityFactor == 0 ? Math.max(1, table.largestLoad())
                : router.capacity(table.globalTokens(), capacityFactor);
        int[] slot = device.allocateInts(n * j);
        int[] chosen = device.allocateInts(experts);
        int[] kept = device.allocateInts(experts);
        device.launch(Router.gridExperts(experts), Router::assignCapacity, slot, chosen, kept, choice,
                DispatchPlan.onDevice(device, table.others()), DispatchPlan.onDevice(device, table.otherTotals()), n,
                experts, j, c);
        int[] slotAssign = DispatchPlan.invert(device, choice, slot, n, experts, j, c);
        DispatchPlan plan = new DispatchPlan(n, experts, j, c, choice, slot, slotAssign, chosen, kept);
        return new Routed(plan, table.globalTokens(),
                table.slotSources(exchange.firstExpert(experts), exchange.localExperts(experts), c));
    }
}
