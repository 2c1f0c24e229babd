package org.moe4j.kernels.differential;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.DifferentialCases.Case;

/**
 * Every {@link DifferentialCases differential case} on a compiled device against the JVM, in both
 * math modes; {@code OpenClDifferentialTest} and {@code CudaDifferentialTest} say which device.
 * The devices are opened once per class; every case is skipped, with the reason, where the device
 * is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DifferentialSuite {
    protected JvmDevice jvm;
    private Device relaxed;
    private Device strict;

    /** Whether the device is here, and why not. */
    protected abstract Availability availability();

    /** The device under test, translating in {@code mode}. */
    protected abstract Device open(MathMode mode);

    @BeforeAll
    void openDevices() {
        if (availability().here()) {
            jvm = new JvmDevice(2, true);
            relaxed = open(MathMode.RELAXED);
            strict = open(MathMode.STRICT);
        }
    }

    @BeforeEach
    void requireDevice() {
        availability().assume();
    }

    @AfterAll
    void closeDevices() {
        if (jvm != null) {
            jvm.close();
            relaxed.close();
            strict.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moe4j.kernels.differential.DifferentialCases#cases")
    void relaxedMathAgreesWithTheJvm(Case c) {
        DifferentialCases.check(c, jvm, relaxed, MathMode.RELAXED, c.ulps());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moe4j.kernels.differential.DifferentialCases#transcendentalCases")
    void strictMathAgreesWithTheJvm(Case c) {
        DifferentialCases.check(c, jvm, strict, MathMode.STRICT, c.strictUlps());
    }
}
