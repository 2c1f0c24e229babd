package org.moe4j.random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SplitMix64Test {

    @Test
    void matchesReferenceImplementation() {
        SplitMix64 r = new SplitMix64(0);
        assertEquals(0xE220A8397B1DCDAFL, r.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, r.nextLong());
        assertEquals(0x06C45D188009454FL, r.nextLong());
    }

    @Test
    void stateRestoreContinuesTheSequence() {
        SplitMix64 a = new SplitMix64(42);
        a.nextGaussian();
        long saved = a.state();
        double[] expected = {a.nextGaussian(), a.nextFloat(), a.nextInt(7), a.nextDouble()};
        SplitMix64 b = new SplitMix64(-1);
        b.setState(saved);
        double[] actual = {b.nextGaussian(), b.nextFloat(), b.nextInt(7), b.nextDouble()};
        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(actual));
    }

    @Test
    void distributionsAreInRangeAndRoughlyRight() {
        SplitMix64 r = new SplitMix64(3);
        int n = 20_000;
        double sum = 0;
        double sumSq = 0;
        int[] counts = new int[5];
        for (int i = 0; i < n; i++) {
            float f = r.nextFloat();
            assertTrue(f >= 0 && f < 1, "nextFloat " + f);
            counts[r.nextInt(5)]++;
            double g = r.nextGaussian();
            sum += g;
            sumSq += g * g;
        }
        assertEquals(0, sum / n, 0.05, "gaussian mean");
        assertEquals(1, sumSq / n, 0.05, "gaussian variance");
        for (int c : counts) {
            assertEquals(n / 5.0, c, n * 0.02, "nextInt(5) bucket");
        }
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
    }
}
