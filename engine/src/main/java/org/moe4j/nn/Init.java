package org.moe4j.nn;

import java.util.Arrays;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tensor;

/** Parameter initialisation, seeded so that a configuration and a seed give one model. */
public final class Init {
    private Init() {
    }

    /** A parameter drawn from N(0, std²). */
    public static Tensor normal(LayerContext layer, float std, int... shape) {
        Tensor tensor = Tensor.zeros(layer.device(), true, shape);
        float[] data = tensor.data();
        SplitMix64 random = layer.random();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextGaussian() * std);
        }
        return tensor.toDevice();
    }

    /** A parameter filled with {@code value} (norm gains start at 1, biases at 0). */
    public static Tensor constant(LayerContext layer, float value, int... shape) {
        Tensor tensor = Tensor.zeros(layer.device(), true, shape);
        Arrays.fill(tensor.data(), value);
        return tensor.toDevice();
    }
}
