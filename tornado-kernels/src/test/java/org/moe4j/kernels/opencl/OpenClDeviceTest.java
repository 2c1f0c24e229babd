package org.moe4j.kernels.opencl;

import org.moe4j.kernels.ResidentDevice;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.Availability;
import org.moe4j.kernels.differential.ResidencySuite;

/** The residency rules and launch limits on the first OpenCL device. */
class OpenClDeviceTest extends ResidencySuite {
    @Override
    protected Availability availability() {
        return Availability.opencl();
    }

    @Override
    protected ResidentDevice open() {
        return OpenClDevice.open(0, MathMode.RELAXED);
    }

    @Override
    protected long maxWorkGroupSize() {
        return ((OpenClDevice) device).info().maxWorkGroupSize();
    }
}
