package org.moe4j.kernels.opencl;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.Availability;
import org.moe4j.kernels.differential.JavaSemanticsSuite;

/** The Java semantics rules on the first OpenCL device. */
class JavaSemanticsOnOpenClTest extends JavaSemanticsSuite {
    @Override
    protected Availability availability() {
        return Availability.opencl();
    }

    @Override
    protected Device open() {
        return OpenClDevice.open(0, MathMode.RELAXED);
    }
}
