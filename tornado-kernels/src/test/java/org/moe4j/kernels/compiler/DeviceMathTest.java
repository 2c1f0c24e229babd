package org.moe4j.kernels.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The functions the PTX device computes exp, log, tanh, pow and the remainder with, run on the JVM:
 * a device running their translation computes the same bits, so these are the device's errors.
 * Errors are counted in ulps of Java's result.
 */
class DeviceMathTest {
    private static final int SAMPLES = 200_000;
    private static final double[] SPECIAL = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
            Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE, -Double.MAX_VALUE, 1.0, -1.0, 0.5,
            2.0, -2.0, 709.78, 709.79, -745.1, -745.2, 88.72, 88.73, -103.9, -104.0, 22.0, -22.0, 0x1p-28, -0x1p-29,
            1e-300, 3.0, 1e300};

    @Test
    void expIsWithinOneUlpAndExactOnSpecialValues() {
        assertUlps("exp", DeviceMath::exp, Math::exp, -746, 710, 1);
        assertUlps("exp", DeviceMath::exp, Math::exp, -1, 1, 1);
        assertSpecial("exp", DeviceMath::exp, Math::exp);
    }

    @Test
    void logIsWithinOneUlpAndExactOnSpecialValues() {
        assertUlps("log", DeviceMath::log, Math::log, 0, 4, 1);
        assertUlps("log", DeviceMath::log, Math::log, 0.5, 1.5, 1);
        assertUlps("log", DeviceMath::log, x -> Math.log(x), 1e-310, 1e-300, 1);
        assertUlps("log", DeviceMath::log, Math::log, 1, 1e300, 1);
        assertSpecial("log", DeviceMath::log, Math::log);
    }

    @Test
    void tanhIsWithinTwoUlpsAndExactOnSpecialValues() {
        assertUlps("tanh", DeviceMath::tanh, Math::tanh, -1, 1, 2);
        assertUlps("tanh", DeviceMath::tanh, Math::tanh, -25, 25, 2);
        assertUlps("tanh", DeviceMath::tanh, Math::tanh, -1e-7, 1e-7, 2);
        assertSpecial("tanh", DeviceMath::tanh, Math::tanh);
    }

    @Test
    void floatResultsRoundedFromTheDoubleFunctionsAreJavas() {
        SplittableRandom r = new SplittableRandom(3);
        int differ = 0;
        for (int i = 0; i < SAMPLES; i++) {
            float x = (float) (-20 + 40 * r.nextDouble());
            differ += (float) DeviceMath.exp(x) != (float) Math.exp(x) ? 1 : 0;
            differ += (float) DeviceMath.tanh(x) != (float) Math.tanh(x) ? 1 : 0;
            differ += (float) DeviceMath.log(Math.abs(x)) != (float) Math.log(Math.abs(x)) ? 1 : 0;
        }
        assertTrue(differ <= 3, differ + " of " + 3 * SAMPLES + " float results differ from Java's");
    }

    @Test
    void powHasJavasSpecialCasesAndIsCloseElsewhere() {
        for (double x : SPECIAL) {
            for (double y : new double[] {0.0, -0.0, 1.0, -1.0, 2.0, 3.0, -3.0, 0.5, -0.5, 1e20, -1e20, 0x1p53 + 2,
                    Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE}) {
                double want = Math.pow(x, y);
                double got = DeviceMath.pow(x, y);
                if (Double.isNaN(want) || Double.isInfinite(want) || want == 0 || x == 1 || y == 1 || y == 0) {
                    assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(got), "pow(" + x + ", " + y + ")");
                } else {
                    assertTrue(Math.abs(got - want) <= 1e-12 * Math.abs(want) || Math.abs(Math.log(Math.abs(want))) > 20,
                            "pow(" + x + ", " + y + ") = " + got + ", Java " + want);
                }
            }
        }
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < SAMPLES; i++) {
            double x = 10 * r.nextDouble();
            double y = -8 + 16 * r.nextDouble();
            double want = Math.pow(x, y);
            assertTrue(Math.abs(DeviceMath.pow(x, y) - want) <= 64 * Math.ulp(want), "pow(" + x + ", " + y + ")");
        }
        assertEquals(-8.0, DeviceMath.pow(-2, 3));
        assertEquals(16.0, DeviceMath.pow(-2, 4));
    }

    @Test
    void remainderIsExact() {
        SplittableRandom r = new SplittableRandom(5);
        DoubleBinaryOperator java = (x, y) -> x % y;
        for (double x : SPECIAL) {
            for (double y : SPECIAL) {
                assertBits("rem(" + x + ", " + y + ")", java.applyAsDouble(x, y), DeviceMath.rem(x, y));
            }
        }
        for (int i = 0; i < SAMPLES; i++) {
            double x = Double.longBitsToDouble(r.nextLong());
            double y = Double.longBitsToDouble(r.nextLong());
            assertBits("rem(" + x + ", " + y + ")", x % y, DeviceMath.rem(x, y));
            double a = (r.nextDouble() - 0.5) * 1e6;
            double b = (r.nextDouble() - 0.5) * 10;
            assertBits("rem(" + a + ", " + b + ")", a % b, DeviceMath.rem(a, b));
            float fa = Float.intBitsToFloat(r.nextInt());
            float fb = Float.intBitsToFloat(r.nextInt());
            assertEquals(Float.floatToIntBits(fa % fb), Float.floatToIntBits((float) DeviceMath.rem(fa, fb)),
                    "float rem(" + fa + ", " + fb + ")");
        }
    }

    private static void assertBits(String what, double want, double got) {
        assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(got), what + ": " + got + ", Java " + want);
    }

    private static void assertSpecial(String name, DoubleUnaryOperator device, DoubleUnaryOperator java) {
        for (double x : SPECIAL) {
            double want = java.applyAsDouble(x);
            double got = device.applyAsDouble(x);
            if (Double.isNaN(want) || Double.isInfinite(want) || want == 0 || Math.abs(want) == 1) {
                assertBits(name + "(" + x + ")", want, got);
            } else {
                assertTrue(Math.abs(got - want) <= 2 * Math.ulp(want), name + "(" + x + ") = " + got + ", Java " + want);
            }
        }
    }

    /** Asserts at most {@code ulps} ulps of error on uniform samples of [lo, hi). */
    private static void assertUlps(String name, DoubleUnaryOperator device, DoubleUnaryOperator java, double lo, double hi,
                                   double ulps) {
        SplittableRandom r = new SplittableRandom(name.hashCode() ^ Double.hashCode(lo));
        double worst = 0;
        double worstX = 0;
        for (int i = 0; i < SAMPLES; i++) {
            double x = lo + (hi - lo) * r.nextDouble();
            double want = java.applyAsDouble(x);
            double error = Math.abs(device.applyAsDouble(x) - want) / Math.ulp(want);
            if (error > worst) {
                worst = error;
                worstX = x;
            }
        }
        assertTrue(worst <= ulps, name + " on [" + lo + ", " + hi + "): " + worst + " ulps at x = " + worstX);
    }
}
