package org.moe4j.nn;

import java.util.Map;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Norms;

/** RMSNorm over the last dimension with a learned gain. */
public final class RmsNormLayer implements Module {
    private final Tensor weight;

    public RmsNormLayer(LayerContext layer, int width) {
        this.weight = Init.constant(layer, 1f, width);
    }

    public Tensor forward(Tape tape, Tensor x) {
        return Norms.rmsNorm(tape, x, weight);
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "weight", weight);
    }
}
