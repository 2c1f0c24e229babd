package org.moe4j.nn;

import org.moe4j.random.SplitMix64;
import org.moe4j.kernels.Device;

/**
 * What a layer needs when it is built: the device its parameters live on and the random stream
 * that initialises them (consumed in construction order, so the same seed gives the same model).
 */
public record LayerContext(Device device, SplitMix64 random) {
}
