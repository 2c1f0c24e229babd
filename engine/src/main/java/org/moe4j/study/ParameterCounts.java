package org.moe4j.study;

import org.moe4j.train.TrainConfig;

/**
 * Total and active parameters of a run's model: active ones are those a token passes through
 * (for a MoE model, the chosen experts' and not the others').
 *
 * @param total  every parameter of the model
 * @param active parameters used per token
 */
public record ParameterCounts(long total, long active) {

    /** The counts of {@code config}'s model. */
    public static ParameterCounts of(TrainConfig config) {
        long total = config.model().parameterCount();
        return new ParameterCounts(total, total - inactiveExpertParameters(config));
    }

    /**
     * Parameters of the experts a token does not use, summed over the MoE layers: for {@code E}
     * experts with {@code k} chosen per token (top-k, or {@code k} prototypes of k top-1), that is
     * {@code (E - k)} experts' weights in each MoE layer. Dense models have none.
     */
    static long inactiveExpertParameters(TrainConfig config) {
        return 0; // dense blocks only: every parameter is used by every token
    }
}
