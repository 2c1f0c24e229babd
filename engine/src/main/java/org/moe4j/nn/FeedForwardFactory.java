package org.moe4j.nn;

/** Makes the feed-forward of each block: where a model decides which blocks are dense and which sparse. */
@FunctionalInterface
public interface FeedForwardFactory {

    FeedForward create(int blockIndex, LayerContext layer, float std, float residualStd);

    /** Every block gets the dense GELU MLP. */
    static FeedForwardFactory dense(ModelConfig config) {
        return (block, layer, std, residualStd) -> new DenseMlp(layer, config.width(), config.hidden(), std, residualStd);
    }
}
