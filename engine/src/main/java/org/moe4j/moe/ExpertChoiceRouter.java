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

    /**
     * Each expert takes its top-C tokens of the global batch: the ranks' probabilities are gathered
     * (one process: its own), every rank ranks all tokens for every expert the same way, keeps its
     * own tokens' assignments, and knows from whom the slots of its experts come.
     */
    @Override
    public Routed route(Device device, Tensor probs, double capacityFactor, TokenExchange exchange) {
        int n = probs.dim(0);
        probs.requireShape("router probabilities", n, experts);
        long[] tokens = exchange.tokenCounts(n);
        int[] firstToken = new int[tokens.length + 1];
        for (int q = 0; q < tokens.length; q++) {
            firstToken[q + 1] = Math.toIntExact(firstToken[q] + tokens[q]);
        }
        int all = firstToken[tokens.length];
        int capacity = capacity(all, capacityFactor);
        float[] everyProb = exchange.allGatherRows(probs.toHost().data(), tokens, experts);
        int[] everyChoice = device.allocateInts(all * experts);
        int[] everySlot = device.allocateInts(all * experts);
        device.launch(Router.gridTokenExperts(all, experts), Router::expertChoice, everyChoice, everySlot, everyProb,
                all, experts, capacity);
        int from = firstToken[exchange.rank()] * experts;
        int[] choice = rows(device, everyChoice, from, n * experts);
        int[] slot = rows(device, everySlot, from, n * experts);

        int first = exchange.firstExpert(experts);
        int local = exchange.localExperts(experts);
        int[] sources = new int[local * capacity];
        Arrays.fill(sources, -1);
        device.copyToHost(everySlot);
        for (int q = 0; q < tokens.length; q++) {
            for (int t = firstToken[q]; t < firstToken[q + 1]; t++) {
                for (int xl = 0; xl < local; xl++) {
                    int s = everySlot[t * experts + first + xl];
                    if (s >= 0) {
                        sources[xl * capacity + s] = q;
                    }
                }
            }
        }
        // Each expert takes exactly C <= N tokens.
        int[] counts = device.allocateInts(experts);
        Arrays.fill(counts, capacity);
        device.copyToDevice(counts);
        int[] slotAssign = DispatchPlan.invert(device, choice, slot, n, experts, experts, capacity);
        DispatchPlan plan = new DispatchPlan(n, experts, experts, capacity, choice, slot, slotAssign, counts, counts);
        return new Routed(plan, all, sources);
    }

    /** {@code length} values of {@code array} from {@code from}: the array itself when that is all of it. */
    private static int[] rows(Device device, int[] array, int from, int length) {
        if (from == 0 && length == array.length) {
            return array;
        }
        device.copyToHost(array);
        int[] part = device.allocateInts(length);
        System.arraycopy(array, from, part, 0, length);
        device.copyToDevice(part);
        return part;
    }
}
