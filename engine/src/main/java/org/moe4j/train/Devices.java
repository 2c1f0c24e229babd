package org.moe4j.train;

import java.util.ArrayList;
import java.util.List;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.MoeSimd;
import org.moe4j.kernels.opencl.OpenClDevice;
import org.moe4j.kernels.opencl.OpenClDeviceInfo;

/**
 * Opens a device by its {@code --device} name, with the engine's kernel overrides installed:
 * {@code jvm}, {@code opencl} (the first OpenCL device) or {@code opencl:N} (device N counted across
 * all platforms, as {@code moe devices} lists them).
 */
public final class Devices {
    /** Device names {@code --device} accepts. */
    public static final List<String> NAMES = List.of("jvm", "opencl", "opencl:N");

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
        if (name.equals("opencl") || name.startsWith("opencl:")) {
            int index = 0;
            if (name.startsWith("opencl:")) {
                try {
                    index = Integer.parseInt(name.substring("opencl:".length()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("device=" + name + " is not valid: use opencl or opencl:N with N a"
                            + " device number from 'moe devices'");
                }
            }
            return OpenClDevice.open(index);
        }
        throw new IllegalArgumentException("device=" + name + " is not available: allowed values are " + NAMES);
    }

    /** One line per device this machine has: {@code jvm} and each OpenCL device (or why there is none). */
    public static List<String> describeAll() {
        List<String> lines = new ArrayList<>();
        lines.add("jvm       the JVM, " + Runtime.getRuntime().availableProcessors() + " cores (Vector API)");
        List<OpenClDeviceInfo> opencl = OpenClDevice.list();
        if (opencl.isEmpty()) {
            lines.add("opencl    none: " + OpenClDevice.unavailableReason());
        }
        for (OpenClDeviceInfo info : opencl) {
            lines.add(info.describe());
        }
        return lines;
    }
}
