package org.moe4j.benchmarks;

import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.MoeSimd;

/** The JVM device the benchmarks run on: as {@code --device jvm} opens it, or portable kernels only. */
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

    /** All cores, every kernel run per work-item as written (no overrides). */
    static JvmDevice portable() {
        return new JvmDevice(Runtime.getRuntime().availableProcessors(), true);
    }
}
