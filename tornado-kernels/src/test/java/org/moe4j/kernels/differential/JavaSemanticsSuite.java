package org.moe4j.kernels.differential;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.compiler.SemanticsKernels;

/**
 * Each Java semantics rule, on the edge values where C's and PTX's rules differ, gives the JVM's
 * bits on a compiled device; {@code JavaSemanticsOnOpenClTest} and {@code JavaSemanticsOnCudaTest}
 * say which. The device is opened once per class and skipped, with the reason, where it is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class JavaSemanticsSuite {
    private JvmDevice jvm;
    private Device device;

    /** Whether the device is here, and why not. */
    protected abstract Availability availability();

    /** The device under test, in relaxed math. */
    protected abstract Device open();

    @BeforeAll
    void openDevices() {
        if (availability().here()) {
            device = open();
            jvm = new JvmDevice(1, true);
        }
    }

    @BeforeEach
    void requireDevice() {
        availability().assume();
    }

    @AfterAll
    void closeDevices() {
        if (device != null) {
            device.close();
            jvm.close();
        }
    }

    private interface Run {
        void on(Device d, Object[] arrays);
    }

    /** Runs on both devices with copies of {@code arrays} and returns {jvm results, device results}. */
    private Object[][] both(Object[] arrays, Run run) {
        Object[] a = copy(arrays);
        Object[] b = copy(arrays);
        run.on(jvm, a);
        run.on(device, b);
        for (Object x : b) {
            device.copyToHost(x);
            device.release(x);
        }
        return new Object[][] {a, b};
    }

    private static Object[] copy(Object[] arrays) {
        Object[] out = new Object[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            out[i] = switch (arrays[i]) {
                case int[] x -> x.clone();
                case long[] x -> x.clone();
                case float[] x -> x.clone();
                default -> throw new IllegalArgumentException();
            };
        }
        return out;
    }

    @Test
    void intArithmeticWrapsAndShiftCountsAreMasked() {
        int[] a = {Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE, -7, 123456789, -1, 5, 1 << 30};
        int[] b = {1, -1, 1, 2, 33, 32, -1, 65};
        int n = a.length;
        Object[][] r = both(new Object[] {new int[9 * n], a, b}, (d, x) ->
                d.launch(Grid.of(n), SemanticsKernels::intOps, (int[]) x[0], (int[]) x[1], (int[]) x[2], n));
        assertArrayEquals((int[]) r[0][0], (int[]) r[1][0], () -> Arrays.toString((int[]) r[1][0]));
        assertEquals(Integer.MIN_VALUE, ((int[]) r[1][0])[0], "MAX_VALUE + 1 wraps");
        assertEquals(Integer.MIN_VALUE, ((int[]) r[1][0])[9 + 3], "MIN_VALUE / -1 is MIN_VALUE");
    }

    @Test
    void longArithmeticWrapsAndShiftCountsAreMasked() {
        long[] a = {Long.MAX_VALUE, Long.MIN_VALUE, -7, 1L << 40, 3};
        long[] b = {1, -1, 2, 1L << 40, -1};
        int[] s = {1, 64, 65, -1, 63};
        int n = a.length;
        Object[][] r = both(new Object[] {new long[6 * n], a, b, s}, (d, x) ->
                d.launch(Grid.of(n), SemanticsKernels::longOps, (long[]) x[0], (long[]) x[1], (long[]) x[2], (int[]) x[3], n));
        assertArrayEquals((long[]) r[0][0], (long[]) r[1][0], () -> Arrays.toString((long[]) r[1][0]));
    }

    @Test
    void floatToIntSaturatesAndSendsNaNToZero() {
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e9f, -3e9f, 1e20f, -2.7f, 2.7f, -0f,
                300.5f, -129.9f};
        int n = x.length;
        Object[][] r = both(new Object[] {new int[3 * n], new long[n], x}, (d, a) ->
                d.launch(Grid.of(n), SemanticsKernels::floatToInt, (int[]) a[0], (long[]) a[1], (float[]) a[2], n));
        assertArrayEquals((int[]) r[0][0], (int[]) r[1][0], () -> Arrays.toString((int[]) r[1][0]));
        assertArrayEquals((long[]) r[0][1], (long[]) r[1][1], () -> Arrays.toString((long[]) r[1][1]));
        assertEquals(0, ((int[]) r[1][0])[0], "(int) NaN is 0");
        assertEquals(Integer.MAX_VALUE, ((int[]) r[1][0])[3], "(int) 3e9 saturates");
    }

    @Test
    void maxAndMinKeepJavaNaNAndSignedZeroRules() {
        float[] a = {Float.NaN, 1f, -0f, 0f, -0f, 2f, Float.NEGATIVE_INFINITY};
        float[] b = {1f, Float.NaN, 0f, -0f, -0f, -3f, Float.NaN};
        int n = a.length;
        Object[][] r = both(new Object[] {new float[4 * n], a, b}, (d, x) ->
                d.launch(Grid.of(n), SemanticsKernels::maxMin, (float[]) x[0], (float[]) x[1], (float[]) x[2], n));
        float[] want = (float[]) r[0][0];
        float[] got = (float[]) r[1][0];
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "element " + i + ": " + Arrays.toString(got));
        }
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(got[4 * 2]), "max(-0, 0) is +0");
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(got[4 * 2 + 1]), "min(-0, 0) is -0");
    }

    @Test
    void noContractionIntoFmaUnlessTheKernelAsks() {
        float a = 1f + 0x1p-12f;
        float c = -(1f + 0x1p-11f);
        Object[][] r = both(new Object[] {new float[2], new float[] {a}, new float[] {a}, new float[] {c}}, (d, x) ->
                d.launch(Grid.of(1), SemanticsKernels::multiplyAdd, (float[]) x[0], (float[]) x[1], (float[]) x[2],
                        (float[]) x[3], 1));
        float[] got = (float[]) r[1][0];
        assertEquals(0f, got[0], "a*b + c rounds twice");
        assertEquals(0x1p-24f, got[1], "Math.fma rounds once");
        assertArrayEquals((float[]) r[0][0], got);
    }

    @Test
    void floatComparisonsWithNaNFollowTheBytecode() {
        float[] a = {Float.NaN, 1f, 2f, 1f};
        float[] b = {1f, Float.NaN, 1f, 2f};
        int n = a.length;
        Object[][] r = both(new Object[] {new int[2 * n], a, b}, (d, x) ->
                d.launch(Grid.of(n), SemanticsKernels::compareNaN, (int[]) x[0], (float[]) x[1], (float[]) x[2], n));
        assertArrayEquals((int[]) r[0][0], (int[]) r[1][0]);
    }

    @Test
    void rawBitConversionsRoundTrip() {
        float[] x = {1.5f, -0f, Float.NaN, Float.intBitsToFloat(0x7f800001), Float.MIN_VALUE};
        int n = x.length;
        Object[][] r = both(new Object[] {new int[n], new float[n], x}, (d, a) ->
                d.launch(Grid.of(n), SemanticsKernels::bits, (int[]) a[0], (float[]) a[1], (float[]) a[2], n));
        assertArrayEquals((int[]) r[0][0], (int[]) r[1][0]);
        float[] want = (float[]) r[0][1];
        float[] got = (float[]) r[1][1];
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
    }

    @Test
    void integerDivisionByZeroGivesZeroAndMinValueByMinusOneWraps() {
        int[] a = {7, -7, Integer.MIN_VALUE, Integer.MIN_VALUE, 9};
        int[] b = {0, 0, -1, 0, 4};
        int n = a.length;
        int[] out = new int[2 * n];
        device.launch(Grid.of(n), SemanticsKernels::divide, out, a, b, n);
        device.copyToHost(out);
        device.release(out);
        assertArrayEquals(new int[] {0, 0, 0, 0, Integer.MIN_VALUE, 0, 0, 0, 2, 1}, out, Arrays.toString(out));
    }

    @Test
    void floatRemainderIsExact() {
        float[] a = {5.5f, -5.5f, 1e30f, 3f, Float.MIN_VALUE * 7, 1f, Float.POSITIVE_INFINITY, Float.NaN, -0f, 7f};
        float[] b = {2f, 2f, 3.3f, 0f, Float.MIN_VALUE * 2, Float.POSITIVE_INFINITY, 1f, 1f, 3f, -2.5f};
        int n = a.length;
        Object[][] r = both(new Object[] {new float[n], a, b}, (d, x) ->
                d.launch(Grid.of(n), SemanticsKernels::floatRemainder, (float[]) x[0], (float[]) x[1], (float[]) x[2], n));
        float[] want = (float[]) r[0][0];
        float[] got = (float[]) r[1][0];
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), a[i] + " % " + b[i] + ": " + got[i]);
        }
    }
}
