package org.moe4j.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.differential.Availability;

/**
 * Whether CUDA is here is decided once, and either way it says so: without a driver every way in
 * fails at once with what is missing; with one, the devices are listed with their capability.
 */
class CudaDriverTest {

    @Test
    void withoutADriverOpeningFailsAtOnceSayingWhatIsMissing() {
        assumeFalse(CudaDriver.available(), "a CUDA driver and GPU are here");
        String reason = CudaDriver.unavailableReason();
        assertTrue(reason.contains(CudaDriver.LIBRARY) || reason.contains("cuInit") || reason.contains("no CUDA device"),
                reason);
        assertEquals(0, CudaDevice.list().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaDevice.open(0));
        assertEquals("no CUDA device: " + reason, e.getMessage());
        assertThrows(IllegalStateException.class, CudaDriver::get);
    }

    @Test
    void withADriverEveryDeviceIsListedWithItsComputeCapabilityAndMemory() {
        Availability.cuda().assume();
        assertTrue(CudaDevice.list().size() >= 1);
        for (CudaDeviceInfo info : CudaDevice.list()) {
            assertTrue(info.major() >= 7, info.describe() + ": the CUDA device needs compute capability 7.0 (Volta) or newer");
            assertTrue(info.describe().startsWith("cuda:" + info.index() + " "), info.describe());
            assertTrue(info.totalMemBytes() > 0 && info.maxThreadsPerBlock() >= 1024, info.describe());
        }
        int missing = CudaDevice.list().size();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaDevice.open(missing));
        assertTrue(e.getMessage().startsWith("cuda:" + missing + " does not exist: devices are cuda:0 to cuda:"), e.getMessage());
    }

    @Test
    void theGemmPathIsNamedWithWhyWhenItIsNotCublas() {
        assertEquals("cuBLAS (libcublas.so.12, pedantic math: no TF32)", CudaDevice.describeGemms(true, "libcublas.so.12", null));
        assertEquals("the compiled tiled kernels (moe4j.cuda.cublas=false)", CudaDevice.describeGemms(false, null, null));
        assertTrue(CudaDevice.describeGemms(true, null, null).startsWith(
                "the compiled tiled kernels (cuBLAS not found: tried libcublas.so.13, libcublas.so.12"));
        assertEquals("the compiled tiled kernels (cuBLAS found but not usable: cublasCreate failed: cublasStatus_t 1)",
                CudaDevice.describeGemms(true, "libcublas.so.12", "cublasCreate failed: cublasStatus_t 1"));
    }
}
