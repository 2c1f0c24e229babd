package org.moe4j.nn;

import java.util.Map;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Elementwise;

/**
 * A pre-norm transformer block: {@code x + attn(norm(x))}, then {@code + ffn(norm(.))}. The
 * feed-forward is a component ({@link FeedForward}) so that a sparse expert layer can take the
 * dense MLP's place.
 */
public final class TransformerBlock implements Module {
    private final RmsNormLayer attentionNorm;
    private final CausalSelfAttention attention;
    private final RmsNormLayer feedForwardNorm;
    private final FeedForward feedForward;

    public TransformerBlock(LayerContext layer, int width, int heads, float std, float residualStd,
                            FeedForward feedForward) {
        this.attentionNorm = new RmsNormLayer(layer, width);
        this.attention = new CausalSelfAttention(layer, width, heads, std, residualStd);
        this.feedForwardNorm = new RmsNormLayer(layer, width);
        this.feedForward = feedForward;
    }

    /** @param x (B,T,D) */
    public Tensor forward(Tape tape, Tensor x) {
        Tensor h = Elementwise.add(tape, x, attention.forward(tape, attentionNorm.forward(tape, x)));
        return Elementwise.add(tape, h, feedForward.forward(tape, feedForwardNorm.forward(tape, h)));
    }

    public FeedForward feedForward() {
        return feedForward;
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        attentionNorm.collectParameters(prefix + "attn_norm.", into);
        attention.collectParameters(prefix + "attn.", into);
        feedForwardNorm.collectParameters(prefix + "ffn_norm.", into);
        feedForward.collectParameters(prefix + "ffn.", into);
    }
}
