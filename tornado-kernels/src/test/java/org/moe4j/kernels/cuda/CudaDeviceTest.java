package org.moe4j.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.ResidentDevice;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.differential.Availability;
import org.moe4j.kernels.differential.ResidencySuite;
import org.moe4j.kernels.lib.Gemm;

/** The residency rules and launch limits on {@code cuda:0}, and its GEMMs on cuBLAS. Skipped without a GPU. */
class CudaDeviceTest extends ResidencySuite {
    @Override
    protected Availability availability() {
        return Availability.cuda();
    }

    @Override
    protected ResidentDevice open() {
        return CudaDevice.open(0, MathMode.RELAXED, true);
    }

    @Override
    protected long maxWorkGroupSize() {
        return ((CudaDevice) device).info().maxThreadsPerBlock();
    }

    @Test
    void aGemmOnCublasReadsResidentOperandsAndMarksOnlyCNewer() {
        float[] a = {1, 2, 3, 4, 5, 6};      // (2, 3)
        float[] b = {1, 0, 0, 1, 1, 1};      // (3, 2)
        float[] c = device.allocateFloats(4);
        device.launch(Gemm.grid(2, 2), Gemm::matmul, c, a, b, 2, 2, 3, 0f);
        device.copyToHost(a);
        device.copyToHost(c);
        assertArrayEquals(new float[] {4, 5, 10, 11}, c);
        assertEquals(1, device.transfers().downloads(), "a was not written: no download");
        assertTrue(((CudaDevice) device).gemms().contains("cuBLAS") || ((CudaDevice) device).gemms().contains("compiled"));
    }
}
