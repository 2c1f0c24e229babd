package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PerplexityTest {
    @Test
    void hugeAndNonFiniteValuesPrintShort() {
        assertEquals("2.239", Perplexity.format(Math.exp(0.806)));
        assertEquals("999999.000", Perplexity.format(999_999));
        assertEquals("1.113e+36", Perplexity.format(Math.exp(83)));
        assertEquals("inf", Perplexity.format(Math.exp(1000)));
        assertEquals("nan", Perplexity.format(Double.NaN));
    }
}
