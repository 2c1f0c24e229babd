package org.moe4j.examples;

import java.util.Map;
import org.moe4j.moe.Expert;
import org.moe4j.moe.ExpertShape;
import org.moe4j.nn.Init;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Activations;
import org.moe4j.tensor.ops.BatchedLinear;
import org.moe4j.tensor.ops.Elementwise;

/**
 * A custom expert written as a user would: a GELU-gated linear unit (GeGLU),
 * {@code y = (gelu(x·Wg[e]) * (x·Wu[e] + bu[e]))·Wd[e] + bd[e]}.
 *
 * <p>Everything a custom expert needs: a public {@code (ExpertShape, LayerContext)} constructor
 * that creates the weights of all E experts stacked along a leading E dimension, a forward from the
 * tensor ops (autograd comes with them), and the parameter names. Train it with
 * <pre>
 * ./moe train --expert org.moe4j.examples.GatedExpert
 * </pre>
 */
public final class GatedExpert implements Expert {
    private final Tensor gateWeight;
    private final Tensor upWeight;
    private final Tensor upBias;
    private final Tensor downWeight;
    private final Tensor downBias;

    public GatedExpert(ExpertShape shape, LayerContext layer) {
        int e = shape.experts();
        int d = shape.width();
        int f = shape.hidden();
        gateWeight = Init.normal(layer, shape.std(), e, d, f);      // (E,D,F)
        upWeight = Init.normal(layer, shape.std(), e, d, f);        // (E,D,F)
        upBias = Init.constant(layer, 0f, e, f);                    // (E,F)
        downWeight = Init.normal(layer, shape.residualStd(), e, f, d); // (E,F,D)
        downBias = Init.constant(layer, 0f, e, d);                  // (E,D)
    }

    /** @param tokens (E,C,D): expert e's tokens are {@code tokens[e]} */
    @Override
    public Tensor forward(Tape tape, Tensor tokens) {
        Tensor gate = Activations.gelu(tape, BatchedLinear.forward(tape, tokens, gateWeight, null)); // (E,C,F)
        Tensor up = BatchedLinear.forward(tape, tokens, upWeight, upBias);                        // (E,C,F)
        return BatchedLinear.forward(tape, Elementwise.multiply(tape, gate, up), downWeight, downBias); // (E,C,D)
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "gate.weight", gateWeight);
        into.put(prefix + "up.weight", upWeight);
        into.put(prefix + "up.bias", upBias);
        into.put(prefix + "down.weight", downWeight);
        into.put(prefix + "down.bias", downBias);
    }
}
