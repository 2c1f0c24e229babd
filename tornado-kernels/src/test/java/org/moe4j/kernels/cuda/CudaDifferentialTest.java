package org.moe4j.kernels.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.Availability;
import org.moe4j.kernels.differential.DifferentialCases;
import org.moe4j.kernels.differential.DifferentialCases.Case;
import org.moe4j.kernels.differential.DifferentialSuite;

/**
 * The differential cases on {@code cuda:0}: the compiled kernels in both math modes (GEMMs compiled
 * too, so that every kernel's PTX runs), then the GEMM cases on cuBLAS, whose summation order
 * differs from the kernels' (within {@value #CUBLAS_ULPS} ulps of the output's scale).
 */
class CudaDifferentialTest extends DifferentialSuite {
    /** cuBLAS sums in its own order: allowed distance from the JVM's GEMMs, in ulps of the output's scale. */
    static final double CUBLAS_ULPS = 8;
    private CudaDevice cublas;

    @Override
    protected Availability availability() {
        return Availability.cuda();
    }

    @Override
    protected Device open(MathMode mode) {
        return CudaDevice.open(0, mode, false);
    }

    @AfterAll
    void closeCublas() {
        if (cublas != null) {
            cublas.close();
        }
    }

    static Stream<Case> gemmCases() {
        return DifferentialCases.cases().filter(c -> c.kernel().startsWith("Gemm.") || c.kernel().startsWith("BatchedGemm."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gemmCases")
    void cublasGemmsAgreeWithTheJvm(Case c) {
        if (cublas == null) {
            cublas = CudaDevice.open(0, MathMode.RELAXED, true);
        }
        assumeTrue(cublas.gemms().startsWith("cuBLAS"), () -> "cuBLAS not used: " + cublas.gemms());
        DifferentialCases.check(c, jvm, cublas, MathMode.RELAXED, CUBLAS_ULPS);
    }
}
