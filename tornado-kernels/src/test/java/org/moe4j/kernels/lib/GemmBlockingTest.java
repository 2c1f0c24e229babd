package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.CpuInfo;

/** The blocking follows the machine it is given: registers pick the micro-kernel, caches the slices. */
class GemmBlockingTest {

    @Test
    void avx512TakesTheWideBlockAndAvx2TheNarrowOne() {
        CpuInfo zen5 = new CpuInfo("AMD EPYC", 16, 32, 48 << 10, 1 << 20);
        assertEquals(new GemmBlocking(6, 4, 1024, 126), GemmBlocking.of(zen5));
        CpuInfo haswell = new CpuInfo("Intel Xeon", 8, 16, 32 << 10, 256 << 10);
        GemmBlocking narrow = GemmBlocking.of(haswell);
        assertEquals(4, narrow.mr());
        assertEquals(2, narrow.nrVectors());
        // A micro-panel of A in half of L1, a panel of B in a quarter of L2, the A block in half of L2.
        assertTrue(narrow.mr() * narrow.kc() * 4 <= (32 << 10) / 2, narrow.toString());
        assertTrue(narrow.kc() * 2 * 8 * 4 <= (256 << 10) / 4, narrow.toString());
        assertTrue(narrow.mc() * narrow.kc() * 4 <= (256 << 10) / 2, narrow.toString());
        assertEquals(0, narrow.kc() % 16);
    }

    @Test
    void tinyCachesStillGiveAUsableBlocking() {
        GemmBlocking g = GemmBlocking.of(new CpuInfo("tiny", 4, 16, 1 << 9, 2 << 10));
        assertEquals(16, g.kc());
        assertTrue(g.mc() >= g.mr() && g.mc() % g.mr() == 0, g.toString());
    }

    @Test
    void onlyTheWrittenMicroKernelsAreAccepted() {
        assertThrows(IllegalArgumentException.class, () -> new GemmBlocking(8, 3, 256, 96));
        assertThrows(IllegalArgumentException.class, () -> new GemmBlocking(6, 4, 256, 100));
    }
}
