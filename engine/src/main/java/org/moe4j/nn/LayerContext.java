package org.moe4j.nn;

import org.moe4j.random.SplitMix64;
import org.moe4j.kernels.Device;

/**
 * What a layer needs when it is built: the device its parameters live on and the random stream
 * that initialises them (consumed in construction order, so the same seed gives the same model).
 *
 * @param experts the shard of experts being built, or null: everything is built whole
 */
public record LayerContext(Device device, SplitMix64 random, ExpertRows experts) {

    public LayerContext(Device device, SplitMix64 random) {
        this(device, random, null);
    }

    /** This context building only {@code rows} of each expert parameter, on the same random stream. */
    public LayerContext experts(ExpertRows rows) {
        return new LayerContext(device, random, rows);
    }
}
