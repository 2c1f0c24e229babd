package org.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The residency rules every device with its own memory follows, on a fake memory that logs what it is asked. */
class ResidentBuffersTest {

    /** Buffers are numbers; every call is logged as "op buffer bytes". */
    private static final class LoggingMemory implements ResidentBuffers.Memory<Integer> {
        final List<String> log = new ArrayList<>();
        int next;

        @Override
        public Integer allocate(Object array, long bytes) {
            log.add("allocate " + next + " " + bytes);
            return next++;
        }

        @Override
        public void zero(Integer buffer, long bytes) {
            log.add("zero " + buffer + " " + bytes);
        }

        @Override
        public void upload(Object array, Integer buffer, long bytes) {
            log.add("upload " + buffer + " " + bytes);
        }

        @Override
        public void download(Integer buffer, Object array, long bytes) {
            log.add("download " + buffer + " " + bytes);
        }

        @Override
        public void free(Integer buffer) {
            log.add("free " + buffer);
        }
    }

    private final LoggingMemory memory = new LoggingMemory();
    private final ResidentBuffers<Integer> buffers = new ResidentBuffers<>(memory);

    @Test
    void uploadsWhenTheHostWroteAndDownloadsOnlyWhatAKernelWrote() {
        float[] weights = new float[10];
        float[] out = new float[10];
        buffers.allocateZeroed(out);
        buffers.copyToDevice(weights);
        assertEquals(0, buffers.forLaunch(out));
        assertEquals(1, buffers.forLaunch(weights));
        buffers.written(out);
        buffers.copyToHost(weights);
        buffers.copyToHost(out);
        buffers.copyToHost(out);
        assertEquals(List.of("allocate 0 40", "zero 0 40", "allocate 1 40", "upload 1 40", "download 0 40"), memory.log);
        assertEquals(new Transfers(1, 1, 40, 40), buffers.transfers());
    }

    @Test
    void aLaunchUploadsAnArrayOnItsFirstSightOnlyAndTheHostMayOverwriteIt() {
        int[] ids = {1, 2, 3};
        buffers.forLaunch(ids);
        buffers.forLaunch(ids);
        ids[0] = 7;
        buffers.copyToDevice(ids);
        assertEquals(List.of("allocate 0 12", "upload 0 12", "upload 0 12"), memory.log);
        assertEquals(new Transfers(2, 0, 24, 0), buffers.transfers());
    }

    @Test
    void arraysAreToldApartByIdentityAndReleaseFreesAtOnce() {
        float[] a = new float[4];
        float[] b = new float[4];
        buffers.copyToDevice(a);
        buffers.copyToDevice(b);
        assertEquals(2, buffers.count());
        assertEquals(32, buffers.deviceBytes());
        buffers.release(a);
        assertFalse(buffers.holds(a));
        assertTrue(buffers.holds(b));
        assertEquals(16, buffers.deviceBytes());
        assertTrue(memory.log.contains("free 0"));
        buffers.freeAll();
        assertEquals(0, buffers.count());
        assertEquals(0, buffers.deviceBytes());
    }

    @Test
    void collectedArraysAreFreedOnALaterCall() throws InterruptedException {
        buffers.allocateZeroed(new float[250_000]);
        for (int i = 0; i < 50 && buffers.deviceBytes() > 0; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, buffers.deviceBytes());
        assertTrue(memory.log.contains("free 0"), memory.log.toString());
    }

    @Test
    void emptyArraysGetASmallBufferAndMoveNoBytes() {
        double[] empty = new double[0];
        buffers.copyToDevice(empty);
        buffers.written(empty);
        buffers.copyToHost(empty);
        assertEquals(List.of("allocate 0 4"), memory.log, "a zero-byte buffer cannot be allocated everywhere");
        assertEquals(new Transfers(1, 1, 0, 0), buffers.transfers());
    }

    @Test
    void refusesWhatIsNotAPrimitiveArrayAndAWriteWithoutBuffer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> buffers.copyToDevice(new byte[3]));
        assertTrue(e.getMessage().contains("not an int, long, float or double array: byte[]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> buffers.written(new float[1]));
    }
}
