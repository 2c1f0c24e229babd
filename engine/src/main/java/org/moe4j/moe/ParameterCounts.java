package org.moe4j.moe;

import java.util.Map;
import java.util.TreeMap;

/**
 * Total and active parameters of a model with MoE layers. A token passes through every parameter
 * except the experts, of which it uses {@link MoeConfig#activeExpertsPerToken()} out of E per
 * layer; so {@code active = total − experts + experts·(active experts / E)}.
 *
 * @param total          all parameters
 * @param experts        parameters of all experts of all MoE layers ({@code *.ffn.experts.*})
 * @param active         parameters one token's forward pass uses, on average
 * @param expertsByLayer expert parameters per block prefix ({@code blocks.0.ffn.}), in name order
 */
public record ParameterCounts(long total, long experts, long active, Map<String, Long> expertsByLayer) {

    /**
     * @param sizes parameter sizes by name (a model's parameters or a checkpoint's tensors)
     * @param moe   the model's MoE settings; null for a dense model
     */
    public static ParameterCounts of(Map<String, Long> sizes, MoeConfig moe) {
        long total = 0;
        long experts = 0;
        Map<String, Long> byLayer = new TreeMap<>();
        for (Map.Entry<String, Long> entry : sizes.entrySet()) {
            total += entry.getValue();
            int at = entry.getKey().indexOf(".ffn.experts.");
            if (at >= 0) {
                experts += entry.getValue();
                byLayer.merge(entry.getKey().substring(0, at + ".ffn.".length()), entry.getValue(), Long::sum);
            }
        }
        long active = total;
        if (moe != null && experts > 0) {
            active = total - experts + Math.round(experts * moe.activeExpertsPerToken() / moe.experts());
        }
        return new ParameterCounts(total, experts, active, byLayer);
    }
}
