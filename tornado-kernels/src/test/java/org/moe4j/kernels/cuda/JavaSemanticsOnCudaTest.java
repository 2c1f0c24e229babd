package org.moe4j.kernels.cuda;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.Availability;
import org.moe4j.kernels.differential.JavaSemanticsSuite;

/** The Java semantics rules on {@code cuda:0}, from the PTX the compiler prints. */
class JavaSemanticsOnCudaTest extends JavaSemanticsSuite {
    @Override
    protected Availability availability() {
        return Availability.cuda();
    }

    @Override
    protected Device open() {
        return CudaDevice.open(0, MathMode.RELAXED, false);
    }
}
