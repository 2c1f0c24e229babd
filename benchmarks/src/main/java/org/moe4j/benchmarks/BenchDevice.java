package org.moe4j.benchmarks;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.MoeSimd;
import org.moe4j.train.Devices;

/** The device the benchmarks run on: as {@code --device} opens it, or the JVM with portable kernels only. */
final class BenchDevice {
    private BenchDevice() {
    }

    /** All cores, with the engine's Vector-API overrides installed (what training uses). */
    static JvmDevice withOverrides() {
        JvmDevice device = new JvmDevice(Runtime.getRuntime().availableProcessors(), false);
        GemmSimd.registerOn(device);
        MoeSimd.registerOn(device);
        ElementwiseSimd.registerOn(device);
        return device;
    }

    /** {@code jvm} as {@link #withOverrides()}, any other {@code --device} name as training opens it. */
    static Device open(String name) {
        return name.equals("jvm") ? withOverrides() : Devices.open(name);
    }

    /** All cores, every kernel run per work-item as written (no overrides). */
    static JvmDevice portable() {
        return new JvmDevice(Runtime.getRuntime().availableProcessors(), true);
    }
}
