package org.moe4j.train;

import java.util.ArrayList;
import java.util.List;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.cuda.CudaDevice;
import org.moe4j.kernels.cuda.CudaDeviceInfo;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.MoeSimd;
import org.moe4j.kernels.opencl.OpenClDevice;
import org.moe4j.kernels.opencl.OpenClDeviceInfo;

/**
 * Opens a device by its {@code --device} name, with the engine's kernel overrides installed:
 * {@code jvm}, {@code opencl} or {@code opencl:N} (device N counted across all platforms, as
 * {@code moe devices} lists them), {@code cuda} or {@code cuda:N} (CUDA ordinal N). Under a
 * launcher, {@code opencl} and {@code cuda} without an index are the device of this process's
 * local rank on its node, as torchrun users expect; otherwise device 0.
 */
public final class Devices {
    /** Device names {@code --device} accepts. */
    public static final List<String> NAMES = List.of("jvm", "opencl", "opencl:N", "cuda", "cuda:N");
    /** The local rank of a process not started by a launcher. */
    public static final int NO_LAUNCHER = -1;

    private Devices() {
    }

    /** Opens {@code name} in a process not started by a launcher. */
    public static Device open(String name) {
        return open(name, NO_LAUNCHER);
    }

    /**
     * Opens {@code name}.
     *
     * @param localRank this process's rank on its node under a launcher, or {@link #NO_LAUNCHER}
     */
    public static Device open(String name, int localRank) {
        if (name.equals("jvm")) {
            JvmDevice device = new JvmDevice();
            GemmSimd.registerOn(device);
            MoeSimd.registerOn(device);
            ElementwiseSimd.registerOn(device);
            return device;
        }
        if (kind(name).equals("opencl")) {
            return OpenClDevice.open(index(name, localRank));
        }
        if (kind(name).equals("cuda")) {
            return CudaDevice.open(index(name, localRank));
        }
        throw new IllegalArgumentException("device=" + name + " is not available: allowed values are " + NAMES);
    }

    /** {@code cuda} of {@code cuda:1}. */
    private static String kind(String name) {
        int colon = name.indexOf(':');
        return colon < 0 ? name : name.substring(0, colon);
    }

    /**
     * The device number {@code name} selects: N of {@code kind:N}, else the local rank under a
     * launcher, else 0.
     */
    static int index(String name, int localRank) {
        int colon = name.indexOf(':');
        if (colon < 0) {
            return localRank == NO_LAUNCHER ? 0 : localRank;
        }
        String kind = name.substring(0, colon);
        try {
            int index = Integer.parseInt(name.substring(colon + 1));
            if (index >= 0) {
                return index;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("device=" + name + " is not valid: use " + kind + " or " + kind
                + ":N with N a device number from 'moe devices'");
    }

    /** One line per device this machine has: {@code jvm}, each OpenCL and each CUDA device (or why there is none). */
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
        List<CudaDeviceInfo> cuda = CudaDevice.list();
        if (cuda.isEmpty()) {
            lines.add("cuda      none: " + CudaDevice.unavailableReason());
        }
        for (CudaDeviceInfo info : cuda) {
            lines.add(info.describe());
        }
        return lines;
    }
}
