package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.cuda.CudaDevice;
import org.moe4j.kernels.cuda.CudaDriver;

/** Device names: an index when given, else the local rank under a launcher, else 0; what each machine lists. */
class DevicesTest {

    @Test
    void aDeviceWithoutAnIndexIsTheLocalRankUnderALauncherAndDeviceZeroOtherwise() {
        assertEquals(0, Devices.index("cuda", Devices.NO_LAUNCHER));
        assertEquals(3, Devices.index("cuda", 3));
        assertEquals(2, Devices.index("opencl", 2));
        assertEquals(1, Devices.index("cuda:1", 3), "an index given wins over the local rank");
        assertEquals(0, Devices.index("opencl:0", 5));
    }

    @Test
    void badIndicesAndUnknownDevicesNameWhatIsAllowed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.index("cuda:x", -1));
        assertEquals("device=cuda:x is not valid: use cuda or cuda:N with N a device number from 'moe devices'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Devices.index("opencl:-1", -1));
        e = assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu"));
        assertEquals("device=tpu is not available: allowed values are [jvm, opencl, opencl:N, cuda, cuda:N]", e.getMessage());
    }

    @Test
    void cudaWithoutADriverFailsAtOnceSayingWhatIsMissing() {
        assumeFalse(CudaDriver.available(), "a CUDA driver and GPU are here");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.open("cuda", 1));
        assertEquals("no CUDA device: " + CudaDevice.unavailableReason(), e.getMessage());
    }

    @Test
    void theListingHasALineForCudaEitherWay() {
        List<String> lines = Devices.describeAll();
        assertTrue(lines.getFirst().startsWith("jvm "), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cuda")), lines.toString());
        if (!CudaDriver.available()) {
            assertTrue(lines.contains("cuda      none: " + CudaDriver.unavailableReason()), lines.toString());
        }
    }
}
