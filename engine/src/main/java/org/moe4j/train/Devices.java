package org.moe4j.train;

import java.util.List;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.MoeSimd;

/** Opens a device by its {@code --device} name, with the engine's kernel overrides installed. */
public final class Devices {
    /** Device names {@code --device} accepts. */
    public static final List<String> NAMES = List.of("jvm");

    private Devices() {
    }

    public static Device open(String name) {
        if (name.equals("jvm")) {
            JvmDevice device = new JvmDevice();
            GemmSimd.registerOn(device);
            MoeSimd.registerOn(device);
            ElementwiseSimd.registerOn(device);
            return device;
        }
        throw new IllegalArgumentException("device=" + name + " is not available: allowed values are " + NAMES);
    }
}
