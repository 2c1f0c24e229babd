package org.moe4j.moe;

import java.util.Map;
import org.moe4j.nn.Init;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Activations;
import org.moe4j.tensor.ops.BatchedLinear;
import org.moe4j.tensor.ops.Elementwise;

/**
 * SwiGLU experts ({@code moe.expert = swiglu}): {@code y = (silu(x·Wg[e]) * (x·Wu[e]))·Wd[e]}, no
 * biases. Parameters {@code gate.weight (E,D,F)}, {@code up.weight (E,D,F)}, {@code down.weight (E,F,D)}.
 */
public final class SwiGluExperts implements Expert {
    private final Tensor gateWeight;
    private final Tensor upWeight;
    private final Tensor downWeight;

    public SwiGluExperts(ExpertShape shape, LayerContext layer) {
        int e = shape.experts();
        this.gateWeight = Init.normal(layer, shape.std(), e, shape.width(), shape.hidden());
        this.upWeight = Init.normal(layer, shape.std(), e, shape.width(), shape.hidden());
        this.downWeight = Init.normal(layer, shape.residualStd(), e, shape.hidden(), shape.width());
    }

    @Override
    public Tensor forward(Tape tape, Tensor tokens) {
        Tensor gate = Activations.silu(tape, BatchedLinear.forward(tape, tokens, gateWeight, null));
        Tensor up = BatchedLinear.forward(tape, tokens, upWeight, null);
        return BatchedLinear.forward(tape, Elementwise.multiply(tape, gate, up), downWeight, null);
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "gate.weight", gateWeight);
        into.put(prefix + "up.weight", upWeight);
        into.put(prefix + "down.weight", downWeight);
    }
}
