package org.moe4j.kernels.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.DifferentialCases;
import org.moe4j.kernels.differential.DifferentialCases.Case;

/**
 * Every {@link DifferentialCases differential case} on {@code cuda:0} against the JVM: the compiled
 * kernels in both math modes (GEMMs compiled too, so that the PTX of every kernel is run), then the
 * GEMM cases on cuBLAS, whose summation order differs from the kernels' (within 8 ulps of the
 * output's scale). Skipped, with the reason, without a CUDA driver and GPU.
 */
class CudaDifferentialTest {
    /** cuBLAS sums in its own order: allowed distance from the JVM's GEMMs, in ulps of the output's scale. */
    static final double CUBLAS_ULPS = 8;
    private static JvmDevice jvm;
    private static CudaDevice relaxed;
    private static CudaDevice strict;
    private static CudaDevice cublas;

    @BeforeAll
    static void open() {
        if (!CudaDriver.available()) {
            return;
        }
        jvm = new JvmDevice(2, true);
        relaxed = CudaDevice.open(0, MathMode.RELAXED, false);
        strict = CudaDevice.open(0, MathMode.STRICT, false);
        cublas = CudaDevice.open(0, MathMode.RELAXED, true);
    }

    @BeforeEach
    void requireCuda() {
        assumeTrue(CudaDriver.available(), () -> "CUDA tests skipped: " + CudaDriver.unavailableReason());
    }

    @AfterAll
    static void close() {
        if (jvm != null) {
            jvm.close();
            relaxed.close();
            strict.close();
            cublas.close();
        }
    }

    static Stream<Case> cases() {
        return DifferentialCases.cases();
    }

    static Stream<Case> transcendentalCases() {
        return DifferentialCases.transcendentalCases();
    }

    static Stream<Case> gemmCases() {
        return DifferentialCases.cases().filter(c -> c.kernel().startsWith("Gemm.") || c.kernel().startsWith("BatchedGemm."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void relaxedMathAgreesWithTheJvm(Case c) {
        DifferentialCases.check(c, jvm, relaxed, MathMode.RELAXED, c.ulps());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcendentalCases")
    void strictMathAgreesWithTheJvm(Case c) {
        DifferentialCases.check(c, jvm, strict, MathMode.STRICT, c.strictUlps());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gemmCases")
    void cublasGemmsAgreeWithTheJvm(Case c) {
        assumeTrue(cublas.gemms().startsWith("cuBLAS"), () -> "cuBLAS not used: " + cublas.gemms());
        DifferentialCases.check(c, jvm, cublas, MathMode.RELAXED, CUBLAS_ULPS);
    }
}
