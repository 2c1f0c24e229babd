package org.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Fp32PeakTest {

    @Test
    void measuresVectorFmasAndKeepsTheResult() {
        double one = Fp32Peak.measure(1);
        // At least a scalar FMA per nanosecond, and below 64 lanes x 2 pipes at 8 GHz.
        assertTrue(one > 2e9 && one < 2.0 * 64 * 2 * 8e9, "one thread: " + one);
        double cached = Fp32Peak.flopsPerSecond(1);
        assertEquals(cached, Fp32Peak.flopsPerSecond(1), "read back, not measured again");
    }
}
