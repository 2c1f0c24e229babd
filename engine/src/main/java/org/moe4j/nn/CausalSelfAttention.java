package org.moe4j.nn;

import java.util.Map;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Attention;

/** Causal multi-head self-attention: a fused q/k/v projection, attention, an output projection. */
public final class CausalSelfAttention implements Module {
    private final LinearLayer qkv;
    private final LinearLayer proj;
    private final int heads;

    public CausalSelfAttention(LayerContext layer, int width, int heads, float std, float residualStd) {
        this.qkv = new LinearLayer(layer, width, 3 * width, true, std);
        this.proj = new LinearLayer(layer, width, width, true, residualStd);
        this.heads = heads;
    }

    /** @param x (B,T,D) */
    public Tensor forward(Tape tape, Tensor x) {
        return proj.forward(tape, Attention.causalSelfAttention(tape, qkv.forward(tape, x), heads));
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        qkv.collectParameters(prefix + "qkv.", into);
        proj.collectParameters(prefix + "proj.", into);
    }
}
