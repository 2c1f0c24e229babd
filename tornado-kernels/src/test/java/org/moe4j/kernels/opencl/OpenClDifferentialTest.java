package org.moe4j.kernels.opencl;

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

/** Every {@link DifferentialCases differential case} on the first OpenCL device against the JVM, in both math modes. */
class OpenClDifferentialTest {
    private static JvmDevice jvm;
    private static OpenClDevice relaxed;
    private static OpenClDevice strict;

    @BeforeAll
    static void open() {
        if (OpenClDevice.list().isEmpty()) {
            return;
        }
        jvm = new JvmDevice(2, true);
        relaxed = OpenClDevice.open(0, MathMode.RELAXED);
        strict = OpenClDevice.open(0, MathMode.STRICT);
    }

    @BeforeEach
    void requireOpenCl() {
        assumeTrue(!OpenClDevice.list().isEmpty(), () -> "OpenCL tests skipped: " + OpenClDevice.unavailableReason());
    }

    @AfterAll
    static void close() {
        if (jvm != null) {
            jvm.close();
            relaxed.close();
            strict.close();
        }
    }

    static Stream<Case> cases() {
        return DifferentialCases.cases();
    }

    static Stream<Case> transcendentalCases() {
        return DifferentialCases.transcendentalCases();
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
}
