package org.moe4j.moe;

import java.util.Map;
import org.moe4j.nn.Init;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.BatchedGeluMlp;

/**
 * The built-in expert ({@code moe.expert = gelu}): {@code y = gelu(x·W1[e] + b1[e])·W2[e] + b2[e]},
 * all experts as batched GEMMs with the GELU in their stores ({@link BatchedGeluMlp}). Parameters
 * {@code up.weight (E,D,F)}, {@code up.bias (E,F)}, {@code down.weight (E,F,D)}, {@code down.bias (E,D)}.
 */
public final class GeluExperts implements Expert {
    private final Tensor upWeight;
    private final Tensor upBias;
    private final Tensor downWeight;
    private final Tensor downBias;

    public GeluExperts(ExpertShape shape, LayerContext layer) {
        int e = shape.experts();
        this.upWeight = Init.normal(layer, shape.std(), e, shape.width(), shape.hidden());
        this.upBias = Init.constant(layer, 0f, e, shape.hidden());
        this.downWeight = Init.normal(layer, shape.residualStd(), e, shape.hidden(), shape.width());
        this.downBias = Init.constant(layer, 0f, e, shape.width());
    }

    @Override
    public Tensor forward(Tape tape, Tensor tokens) {
        return BatchedGeluMlp.forward(tape, tokens, upWeight, upBias, downWeight, downBias);
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "up.weight", upWeight);
        into.put(prefix + "up.bias", upBias);
        into.put(prefix + "down.weight", downWeight);
        into.put(prefix + "down.bias", downBias);
    }
}
