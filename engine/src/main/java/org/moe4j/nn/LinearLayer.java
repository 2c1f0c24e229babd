package org.moe4j.nn;

import java.util.Map;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Linear;

/** {@code y = x·W + b} with {@code W (in,out)} and an optional bias {@code b (out)}. */
public final class LinearLayer implements Module {
    private final Tensor weight;
    private final Tensor bias;

    /** @param std standard deviation of the weight initialisation */
    public LinearLayer(LayerContext layer, int in, int out, boolean withBias, float std) {
        this.weight = Init.normal(layer, std, in, out);
        this.bias = withBias ? Init.constant(layer, 0f, out) : null;
    }

    public Tensor forward(Tape tape, Tensor x) {
        return Linear.forward(tape, x, weight, bias);
    }

    public Tensor weight() {
        return weight;
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "weight", weight);
        if (bias != null) {
            into.put(prefix + "bias", bias);
        }
    }
}
