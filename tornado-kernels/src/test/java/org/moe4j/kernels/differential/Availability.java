package org.moe4j.kernels.differential;

import org.moe4j.kernels.cuda.CudaDriver;
import org.moe4j.kernels.opencl.OpenClDevice;
import org.moe4j.testing.Requirement;

/**
 * Whether the devices of a kind are here, and if not why: the device tests skip with the reason, or
 * fail where {@code -Dmoe4j.require} names the capability.
 *
 * @param capability the name {@code -Dmoe4j.require} knows it by: {@code opencl}, {@code cuda}
 * @param reason     why there is none, or null when there is
 */
public record Availability(String capability, String reason) {

    public static Availability opencl() {
        return new Availability("opencl", OpenClDevice.list().isEmpty() ? OpenClDevice.unavailableReason() : null);
    }

    public static Availability cuda() {
        return new Availability("cuda", CudaDriver.available() ? null : CudaDriver.unavailableReason());
    }

    public boolean here() {
        return reason == null;
    }

    /** Skips (or fails, if required) the calling test when the device is missing. */
    public void assume() {
        Requirement.assume(capability, here(), reason);
    }
}
