package org.moe4j.kernels.differential;

import org.moe4j.kernels.cuda.CudaDriver;
import org.moe4j.kernels.opencl.OpenClDevice;

/** Why the device tests of a kind are skipped here, or null when the device is here. */
public final class Availability {
    private Availability() {
    }

    public static String opencl() {
        return OpenClDevice.list().isEmpty() ? "OpenCL tests skipped: " + OpenClDevice.unavailableReason() : null;
    }

    public static String cuda() {
        return CudaDriver.available() ? null : "CUDA tests skipped: " + CudaDriver.unavailableReason();
    }
}
