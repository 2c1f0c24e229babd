package org.moe4j.nn;

import org.moe4j.moe.ExpertParallel;
import org.moe4j.moe.MoeLayer;

/** Makes the feed-forward of each block: where a model decides which blocks are dense and which sparse. */
@FunctionalInterface
public interface FeedForwardFactory {

    FeedForward create(int blockIndex, LayerContext layer, float std, float residualStd);

    /** Every block gets the dense GELU MLP. */
    static FeedForwardFactory dense(ModelConfig config) {
        return (block, layer, std, residualStd) -> new DenseMlp(layer, config.width(), config.hidden(), std, residualStd);
    }

    /**
     * What the config says: an {@link MoeLayer} in the blocks {@code model.moe.every} selects, the
     * dense MLP in the others (all of them when {@code model.moe} is null).
     */
    static FeedForwardFactory of(ModelConfig config) {
        return of(config, null);
    }

    /** As {@link #of(ModelConfig)}, with the MoE layers' experts sharded over {@code parallel} (null: not sharded). */
    static FeedForwardFactory of(ModelConfig config, ExpertParallel parallel) {
        FeedForwardFactory dense = dense(config);
        return (block, layer, std, residualStd) -> config.isMoeBlock(block)
                ? new MoeLayer(config.moe(), config.width(), layer, std, residualStd, parallel)
                : dense.create(block, layer, std, residualStd);
    }
}
