package org.moe4j.kernels.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.lib.Elementwise;

/** Buffers stay on the device: only the copies the host asks for (and first sightings) move data. */
class OpenClDeviceTest {
    private OpenClDevice device;

    @BeforeEach
    void open() {
        assumeTrue(!OpenClDevice.list().isEmpty(), () -> "OpenCL tests skipped: " + OpenClDevice.unavailableReason());
        device = OpenClDevice.open(0, MathMode.RELAXED);
    }

    @AfterEach
    void close() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void kernelsChainOnResidentBuffersAndOnlyRequestedCopiesHappen() {
        int n = 100;
        float[] a = device.allocateFloats(n);
        float[] b = device.allocateFloats(n);
        float[] out = device.allocateFloats(n);
        for (int i = 0; i < n; i++) {
            a[i] = i;
            b[i] = 2 * i;
        }
        device.copyToDevice(a);
        device.copyToDevice(b);
        assertEquals(new org.moe4j.kernels.Transfers(2, 0, 800, 0), device.transfers());
        device.launch(Grid.of(n), Elementwise::add, out, a, b, n);     // out = 3i
        device.launch(Grid.of(n), Elementwise::accumulate, out, a, n); // out = 4i
        device.launch(Grid.of(n), Elementwise::scale, out, 0.5f, n);   // out = 2i
        assertEquals(new org.moe4j.kernels.Transfers(2, 0, 800, 0), device.transfers(), "no copies between kernels");
        assertEquals(0f, out[7], "the host copy is stale until copyToHost");
        device.copyToHost(out);
        device.copyToHost(a); // never written by a kernel: nothing to bring back
        assertEquals(new org.moe4j.kernels.Transfers(2, 1, 800, 400), device.transfers());
        for (int i = 0; i < n; i++) {
            assertEquals(2f * i, out[i]);
        }
        device.copyToHost(out);
        assertEquals(1, device.transfers().downloads(), "a second copyToHost of an unchanged array is free");
    }

    @Test
    void anArrayTheDeviceHasNotSeenIsUploadedOnItsFirstLaunchOnly() {
        int n = 70;
        float[] x = new float[n];
        java.util.Arrays.fill(x, 3f);
        float[] acc = device.allocateFloats(n);
        device.launch(Grid.of(n), Elementwise::accumulate, acc, x, n);
        assertEquals(1, device.transfers().uploads());
        assertTrue(device.holds(x));
        device.launch(Grid.of(n), Elementwise::accumulate, acc, x, n);
        assertEquals(1, device.transfers().uploads(), "x is resident now");
        device.copyToHost(acc);
        float[] want = new float[n];
        java.util.Arrays.fill(want, 6f);
        assertArrayEquals(want, acc);
    }

    @Test
    void releaseFreesTheBufferAndCollectedArraysAreFreedLater() throws InterruptedException {
        float[] kept = device.allocateFloats(1000);
        device.release(kept);
        assertFalse(device.holds(kept));
        assertEquals(0, device.deviceBytes());
        device.allocateFloats(250_000); // dropped at once: its buffer goes when the JVM collects it
        for (int i = 0; i < 50 && device.deviceBytes() > 0; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, device.deviceBytes(), "buffer of a collected array was not freed");
    }

    @Test
    void aWorkGroupLargerThanTheKernelAllowsIsRefusedWithTheSizes() {
        float[] x = device.allocateFloats(8);
        long max = device.info().maxWorkGroupSize();
        int local = (int) Math.min(Integer.MAX_VALUE / 2, max * 2);
        OpenClException e = assertThrows(OpenClException.class,
                () -> device.launch(Grid.of(local, local), Elementwise::fill, x, 1f, 8));
        assertTrue(e.getMessage().contains("work-group of " + local + "x1"), e.getMessage());
        assertTrue(e.getMessage().contains("Elementwise.fill"), e.getMessage());
    }

    @Test
    void wrongArgumentTypesAreRefused() {
        int[] ints = new int[4];
        assertThrows(IllegalArgumentException.class, () -> device.launch(new org.moe4j.kernels.Launch(Grid.of(4),
                (org.moe4j.kernels.Kernel3<float[], Float, Integer>) Elementwise::fill, c -> {
                }, new Object[] {ints, 1f, 4})));
    }
}
