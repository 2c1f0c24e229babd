package org.moe4j.kernels.opencl;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.Availability;
import org.moe4j.kernels.differential.DifferentialSuite;

/** The differential cases on the first OpenCL device. */
class OpenClDifferentialTest extends DifferentialSuite {
    @Override
    protected Availability availability() {
        return Availability.opencl();
    }

    @Override
    protected Device open(MathMode mode) {
        return OpenClDevice.open(0, mode);
    }
}
