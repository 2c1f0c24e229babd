package com.example.experts;

import java.util.Map;
import org.moe4j.moe.Expert;
import org.moe4j.moe.ExpertShape;
import org.moe4j.nn.Init;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Activations;
import org.moe4j.tensor.ops.BatchedLinear;

/**
 * An expert compiled outside moe4j's build: {@code y = relu(x·W1[e] + b1[e])²·W2[e] + b2[e]}, the
 * squared-ReLU feed-forward of Primer, for all E experts at once on the (E,C,D) dispatch buffer.
 */
public final class SquaredReluExpert implements Expert {
    private final Tensor up;
    private final Tensor upBias;
    private final Tensor down;
    private final Tensor downBias;

    public SquaredReluExpert(ExpertShape s, LayerContext layer) {
        up = Init.normal(layer, s.std(), s.experts(), s.width(), s.hidden());            // (E,D,F)
        upBias = Init.constant(layer, 0f, s.experts(), s.hidden());                      // (E,F)
        down = Init.normal(layer, s.residualStd(), s.experts(), s.hidden(), s.width());  // (E,F,D)
        downBias = Init.constant(layer, 0f, s.experts(), s.width());                     // (E,D)
    }

    @Override
    public Tensor forward(Tape tape, Tensor tokens) {                                     // (E,C,D)
        Tensor hidden = Activations.squaredRelu(tape, BatchedLinear.forward(tape, tokens, up, upBias));
        return BatchedLinear.forward(tape, hidden, down, downBias);
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "up.weight", up);
        into.put(prefix + "up.bias", upBias);
        into.put(prefix + "down.weight", down);
        into.put(prefix + "down.bias", downBias);
    }
}
