package org.moe4j.nn;

import java.util.Arrays;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tensor;

/** Parameter initialisation, seeded so that a configuration and a seed give one model. */
public final class Init {
    private Init() {
    }

    /**
     * A parameter drawn from N(0, std²). In a context building a shard of experts
     * ({@link LayerContext#experts()}), {@code shape} is the shard's {@code (count, ...)} and the
     * values are rows {@code [first, first + count)} of the {@code (E, ...)} parameter the whole
     * layer would draw; the stream moves past the other rows without drawing them.
     *
     * @throws IllegalArgumentException in a shard's context, for a shape whose leading dimension is
     *                                  not the shard's count: expert parameters are stacked by expert
     */
    public static Tensor normal(LayerContext layer, float std, int... shape) {
        Tensor tensor = Tensor.zeros(layer.device(), true, shape);
        float[] data = tensor.data();
        SplitMix64 random = layer.random();
        ExpertRows rows = layer.experts();
        if (rows != null && (shape.length == 0 || shape[0] != rows.count())) {
            throw new IllegalArgumentException("an expert parameter " + Arrays.toString(shape) + " is not stacked along a"
                    + " leading dimension of the experts (" + rows.count() + " here of " + rows.total() + "): expert"
                    + " parameters must be (E, ...) to be sharded over ranks");
        }
        // Box-Muller draws two outputs per value.
        long rowDraws = rows == null ? 0 : 2L * (data.length / rows.count());
        if (rows != null) {
            random.skip(rowDraws * rows.first());
        }
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextGaussian() * std);
        }
        if (rows != null) {
            random.skip(rowDraws * (rows.total() - rows.first() - rows.count()));
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
