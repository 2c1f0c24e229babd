package org.moe4j.nn;

import java.util.Map;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Activations;

/** The dense GELU MLP: {@code up (D,F)}, GELU, {@code down (F,D)}, both with bias. */
public final class DenseMlp implements FeedForward {
    private final LinearLayer up;
    private final LinearLayer down;

    /** @param residualStd initialisation std of the projection back into the residual stream */
    public DenseMlp(LayerContext layer, int width, int hidden, float std, float residualStd) {
        this.up = new LinearLayer(layer, width, hidden, true, std);
        this.down = new LinearLayer(layer, hidden, width, true, residualStd);
    }

    @Override
    public Tensor forward(Tape tape, Tensor x) {
        return down.forward(tape, Activations.gelu(tape, up.forward(tape, x)));
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        up.collectParameters(prefix + "up.", into);
        down.collectParameters(prefix + "down.", into);
    }
}
