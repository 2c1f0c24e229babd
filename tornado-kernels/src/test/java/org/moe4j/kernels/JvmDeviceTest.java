package org.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class JvmDeviceTest {

    private static final int GROUP = 32;

    /** out[g] = sum of x over work-group g: a tree reduction in local memory, one barrier per level. */
    public static void groupSum(KernelContext ctx, float[] out, float[] x, int n) {
        float[] partial = ctx.allocateFloatLocalArray(GROUP);
        int lid = ctx.localIdx;
        int gid = ctx.globalIdx;
        partial[lid] = gid < n ? x[gid] : 0f;
        ctx.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                partial[lid] += partial[lid + stride];
            }
            ctx.localBarrier();
        }
        if (lid == 0) {
            out[ctx.groupIdx] = partial[0];
        }
    }

    /** Calls the barrier through a helper of the same class, which KernelMethod must follow. */
    public static void barrierViaHelper(KernelContext ctx, float[] x) {
        sync(ctx);
    }

    private static void sync(KernelContext ctx) {
        ctx.localBarrier();
    }

    /** ids[id] = one code per work-item of a 2-D grid holding all its ids. */
    public static void ids2d(KernelContext ctx, int[] ids, int width, int height) {
        int x = ctx.globalIdx;
        int y = ctx.globalIdy;
        if (x < width && y < height) {
            ids[y * width + x] = ((ctx.groupIdy * ctx.localGroupSizeY + ctx.localIdy) * 1000
                    + ctx.groupIdx * ctx.localGroupSizeX + ctx.localIdx) * 10 + (ctx.globalGroupSizeX == 24 ? 1 : 0);
        }
    }

    /** y[i] = 2·x[i]. */
    public static void twice(KernelContext ctx, float[] y, float[] x, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            y[i] = 2 * x[i];
        }
    }

    /** A host override of {@link #twice} that computes something else, so the test sees which ran. */
    static void thrice(float[] y, float[] x, int n) {
        for (int i = 0; i < n; i++) {
            y[i] = 3 * x[i];
        }
    }

    /** Returns before the barrier on one work-item: wrong on any device. */
    public static void divergentBarrier(KernelContext ctx, float[] x) {
        if (ctx.localIdx == 3) {
            return;
        }
        ctx.localBarrier();
    }

    /** Throws on one work-item while the others wait at the barrier. */
    public static void failingWorkItem(KernelContext ctx, float[] x) {
        x[ctx.localIdx == 5 ? x.length : 0] = 1f;
        ctx.localBarrier();
    }

    private final int offset = 1;

    void instanceKernel(KernelContext ctx, float[] x) {
        x[ctx.globalIdx] += offset;
    }

    @Test
    void barrierReductionSumsEachWorkGroup() {
        int n = 100;
        float[] x = new float[n];
        Random random = new Random(5);
        for (int i = 0; i < n; i++) {
            x[i] = random.nextInt(10);
        }
        int groups = Math.ceilDiv(n, GROUP);
        float[] expected = new float[groups];
        for (int i = 0; i < n; i++) {
            expected[i / GROUP] += x[i];
        }
        float[] out = new float[groups];
        try (JvmDevice device = new JvmDevice(2, false)) {
            device.launch(Grid.of(n, GROUP), JvmDeviceTest::groupSum, out, x, n);
        }
        assertArrayEquals(expected, out);
    }

    @Test
    void kernelMethodDetectsBarriers() {
        assertTrue(KernelMethod.of((Kernel3<float[], float[], Integer>) JvmDeviceTest::groupSum).usesBarrier());
        assertTrue(KernelMethod.of((Kernel1<float[]>) JvmDeviceTest::barrierViaHelper).usesBarrier());
        assertFalse(KernelMethod.of((Kernel3<float[], float[], Integer>) JvmDeviceTest::twice).usesBarrier());
        KernelMethod twice = KernelMethod.of((Kernel3<float[], float[], Integer>) JvmDeviceTest::twice);
        assertEquals("org/moe4j/kernels/JvmDeviceTest", twice.className());
        assertEquals("twice", twice.methodName());
        assertEquals("JvmDeviceTest.twice", twice.displayName());
    }

    @Test
    void twoDimensionalGridSetsEveryId() {
        int width = 21;
        int height = 10;
        int[] ids = new int[width * height];
        try (JvmDevice device = new JvmDevice(2, false)) {
            device.launch(Grid.of(width, height, 8, 4), JvmDeviceTest::ids2d, ids, width, height);
        }
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                assertEquals((y * 1000 + x) * 10 + 1, ids[y * width + x], "work-item x=" + x + " y=" + y);
            }
        }
    }

    @Test
    void overridesRunUnlessPortableOnly() {
        int n = 70;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        try (JvmDevice fast = new JvmDevice(2, false); JvmDevice portable = new JvmDevice(2, true)) {
            fast.override(JvmDeviceTest::twice, JvmDeviceTest::thrice);
            portable.override(JvmDeviceTest::twice, JvmDeviceTest::thrice);
            float[] yFast = new float[n];
            float[] yPortable = new float[n];
            fast.launch(Grid.of(n), JvmDeviceTest::twice, yFast, x, n);
            portable.launch(Grid.of(n), JvmDeviceTest::twice, yPortable, x, n);
            assertEquals(3 * 69f, yFast[69]);
            assertEquals(2 * 69f, yPortable[69]);
            assertTrue(portable.portableOnly());
            assertFalse(fast.portableOnly());
        }
    }

    @Test
    void capturingAndInstanceKernelsAreRejected() {
        int shift = 3;
        Kernel1<float[]> capturing = (ctx, x) -> x[ctx.globalIdx] += shift;
        Kernel1<float[]> bound = this::instanceKernel;
        assertThrows(IllegalArgumentException.class, () -> KernelMethod.of(capturing));
        assertThrows(IllegalArgumentException.class, () -> KernelMethod.of(bound));
        try (JvmDevice device = new JvmDevice(1, false)) {
            assertThrows(IllegalArgumentException.class, () -> device.launch(Grid.of(4), capturing, new float[4]));
            assertThrows(IllegalArgumentException.class, () -> device.launch(Grid.of(4), bound, new float[4]));
        }
    }

    @Test
    void brokenBarrierUseFailsInsteadOfHanging() {
        try (JvmDevice device = new JvmDevice(2, false)) {
            IllegalStateException diverged = assertThrows(IllegalStateException.class,
                    () -> device.launch(Grid.of(16, 8), JvmDeviceTest::divergentBarrier, new float[16]));
            assertTrue(rootCause(diverged).getMessage().contains("without reaching a localBarrier()"),
                    rootCause(diverged).getMessage());
            IllegalStateException failed = assertThrows(IllegalStateException.class,
                    () -> device.launch(Grid.of(8, 8), JvmDeviceTest::failingWorkItem, new float[8]));
            assertTrue(rootCause(failed) instanceof ArrayIndexOutOfBoundsException, String.valueOf(rootCause(failed)));
        }
    }

    /** The innermost cause: fork/join may wrap an exception thrown on another thread. */
    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
