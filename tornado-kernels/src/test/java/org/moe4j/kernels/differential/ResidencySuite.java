package org.moe4j.kernels.differential;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.Kernel3;
import org.moe4j.kernels.Launch;
import org.moe4j.kernels.ResidentDevice;
import org.moe4j.kernels.Transfers;
import org.moe4j.kernels.lib.Elementwise;

/**
 * Buffers stay on a device with memory of its own: only the copies the host asks for (and first
 * sightings) move data; {@code OpenClDeviceTest} and {@code CudaDeviceTest} say which device, and
 * add what is particular to it. Skipped, with the reason, where the device is missing.
 */
public abstract class ResidencySuite {
    protected ResidentDevice device;

    /** Whether the device is here, and why not. */
    protected abstract Availability availability();

    /** A fresh device, in relaxed math. */
    protected abstract ResidentDevice open();

    /** The largest work-group the device takes for {@link Elementwise#fill}. */
    protected abstract long maxWorkGroupSize();

    @BeforeEach
    void openDevice() {
        availability().assume();
        device = open();
    }

    @AfterEach
    void closeDevice() {
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
        assertEquals(new Transfers(2, 0, 800, 0), device.transfers());
        device.launch(Grid.of(n), Elementwise::add, out, a, b, n);     // out = 3i
        device.launch(Grid.of(n), Elementwise::accumulate, out, a, n); // out = 4i
        device.launch(Grid.of(n), Elementwise::scale, out, 0.5f, n);   // out = 2i
        assertEquals(new Transfers(2, 0, 800, 0), device.transfers(), "no copies between kernels");
        assertEquals(0f, out[7], "the host copy is stale until copyToHost");
        device.copyToHost(out);
        device.copyToHost(a); // never written by a kernel: nothing to bring back
        assertEquals(new Transfers(2, 1, 800, 400), device.transfers());
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (device.deviceBytes() > 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, device.deviceBytes(), "buffer of a collected array was not freed");
    }

    @Test
    void wrongArgumentTypesAreRefused() {
        int[] ints = new int[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> device.launch(new Launch(Grid.of(4),
                (Kernel3<float[], Float, Integer>) Elementwise::fill, c -> {
                }, new Object[] {ints, 1f, 4})));
        assertTrue(e.getMessage().contains("Elementwise.fill: parameter x is a FLOAT_ARRAY, got int[]"), e.getMessage());
    }

    @Test
    void aWorkGroupLargerThanTheKernelAllowsIsRefusedWithTheSizes() {
        float[] x = device.allocateFloats(8);
        int local = (int) Math.min(Integer.MAX_VALUE / 2, maxWorkGroupSize() * 2);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> device.launch(Grid.of(local, local), Elementwise::fill, x, 1f, 8));
        assertTrue(e.getMessage().contains("work-group of " + local + "x1"), e.getMessage());
        assertTrue(e.getMessage().contains("Elementwise.fill"), e.getMessage());
    }
}
