package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.moe4j.random.SplitMix64;

/** bfloat16 rounding: to nearest, ties to even, at most 2^-8 relative error, the specials kept. */
class BFloat16Test {

    private static float bits(int b) {
        return Float.intBitsToFloat(b);
    }

    @Test
    void roundsToNearestAndTiesToEven() {
        assertEquals(1.0f, BFloat16.widen(BFloat16.round(1.0f)));
        // 1 + 2^-8 is half-way between 1 and 1 + 2^-7: ties go to the even mantissa, 1
        assertEquals(1.0f, BFloat16.widen(BFloat16.round(1f + 0x1p-8f)));
        // 1 + 3·2^-8 is half-way between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        assertEquals(1f + 0x1p-6f, BFloat16.widen(BFloat16.round(1f + 3 * 0x1p-8f)));
        // just above a tie rounds up, just below rounds down
        assertEquals(1f + 0x1p-7f, BFloat16.widen(BFloat16.round(bits(0x3F808001))));
        assertEquals(1.0f, BFloat16.widen(BFloat16.round(bits(0x3F807FFF))));
        assertEquals(-1f - 0x1p-7f, BFloat16.widen(BFloat16.round(-bits(0x3F808001))));
    }

    @Test
    void keepsInfinitiesNanZerosAndOverflowsToInfinity() {
        assertEquals(Float.POSITIVE_INFINITY, BFloat16.widen(BFloat16.round(Float.POSITIVE_INFINITY)));
        assertEquals(Float.NEGATIVE_INFINITY, BFloat16.widen(BFloat16.round(Float.NEGATIVE_INFINITY)));
        assertTrue(Float.isNaN(BFloat16.widen(BFloat16.round(Float.NaN))));
        // a NaN whose payload lies in the dropped bits alone stays a NaN, not an infinity
        assertTrue(Float.isNaN(BFloat16.widen(BFloat16.round(bits(0x7F800001)))));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(BFloat16.widen(BFloat16.round(-0f))));
        assertEquals(Float.POSITIVE_INFINITY, BFloat16.widen(BFloat16.round(Float.MAX_VALUE)));
        // the smallest subnormal float is below half of bfloat16's smallest subnormal
        assertEquals(0f, BFloat16.widen(BFloat16.round(Float.MIN_VALUE)));
    }

    @Test
    void relativeErrorIsAtMostTwoToTheMinusEight() {
        RandomFloats random = new RandomFloats(new SplitMix64(5));
        double worst = 0;
        for (int i = 0; i < 100_000; i++) {
            float x = random.next();
            float y = BFloat16.widen(BFloat16.round(x));
            worst = Math.max(worst, Math.abs((double) y - x) / Math.abs(x));
        }
        assertTrue(worst <= 0x1p-8, "worst relative error " + worst);
        assertTrue(worst > 0x1p-9, "worst relative error " + worst + ": the rounding is finer than bfloat16's");
    }

    /** Normal floats of random sign, mantissa and exponent in [2^-60, 2^60]. */
    private record RandomFloats(SplitMix64 random) {
        float next() {
            float mantissa = 1f + random.nextFloat();
            int exponent = (int) (random.nextFloat() * 120) - 60;
            return (random.nextFloat() < 0.5f ? -1 : 1) * Math.scalb(mantissa, exponent);
        }
    }
}
