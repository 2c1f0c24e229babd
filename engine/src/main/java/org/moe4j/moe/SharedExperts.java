package org.moe4j.moe;

import java.util.Arrays;
import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * Shared experts (DeepSeekMoE, Qwen-MoE): S experts of the layer's expert type that every token
 * passes through, their outputs summed into the routed output. They run as experts do, on a
 * dispatch buffer {@code (S,N,D)} that holds every token for every shared expert, and combine with
 * unit weights. Dense parameters: every rank holds them all.
 */
final class SharedExperts {
    private final int count;
    private final Expert experts;

    SharedExperts(MoeConfig config, int width, float std, float residualStd, LayerContext layer) {
        this.count = config.sharedExperts();
        this.experts = Experts.create(config.expert(), new ExpertShape(count, width, config.hidden(), std, residualStd),
                layer);
    }

    /**
     * {@code Σ_s shared_s(x)}.
     *
     * @param x (N,D); not modified
     * @return (N,D)
     */
    Tensor forward(Tape tape, Tensor x) {
        Device device = tape.device();
        int n = x.dim(0);
        int[] choice = new int[n * count];
        int[] slot = new int[n * count];
        int[] slotAssign = new int[count * n];
        for (int t = 0; t < n; t++) {
            for (int s = 0; s < count; s++) {
                choice[t * count + s] = s;
                slot[t * count + s] = t;
                slotAssign[s * n + t] = t * count + s;
            }
        }
        int[] all = new int[count];
        Arrays.fill(all, n);
        DispatchPlan everyToken = new DispatchPlan(n, count, count, n, DispatchPlan.onDevice(device, choice),
                DispatchPlan.onDevice(device, slot), DispatchPlan.onDevice(device, slotAssign),
                DispatchPlan.onDevice(device, all), DispatchPlan.onDevice(device, all));
        float[] ones = new float[n * count];
        Arrays.fill(ones, 1f);
        Tensor out = experts.forward(tape, DispatchOps.dispatch(tape, x, everyToken));
        return DispatchOps.combine(tape, out, Tensor.of(device, false, ones, n, count), everyToken);
    }

    void collectParameters(String prefix, Map<String, Tensor> into) {
        experts.collectParameters(prefix, into);
    }
}
