package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Statistics of a hand-made routing. */
class RoutingStatsTest {

    @Test
    void topKStatistics() {
        // 4 tokens, top-2 over 3 experts, capacity 2: routed (4, 3, 1), kept (2, 2, 1): 3 of 8 dropped.
        float[] probs = {
            0.5f, 0.5f, 0f,
            1f, 0f, 0f,
            0.25f, 0.25f, 0.5f,
            0.5f, 0.25f, 0.25f,
        };
        RoutingStats stats = RoutingStats.of(4, 2, false, new int[] {4, 3, 1}, new int[] {2, 2, 1}, -1,
                RoutingStats.entropySum(probs, 4, 3, 1) / 4, 1.25, 0.5, 1, null);
        assertArrayEquals(new double[] {4, 3, 1}, stats.tokensPerExpertRouted());
        assertArrayEquals(new double[] {2, 2, 1}, stats.tokensPerExpert());
        double mean = 8.0 / 3;
        assertEquals(4 / mean, stats.maxMeanLoad(), 1e-12);
        double std = Math.sqrt(((4 - mean) * (4 - mean) + (3 - mean) * (3 - mean) + (1 - mean) * (1 - mean)) / 3);
        assertEquals(std / mean, stats.loadCv(), 1e-12);
        assertEquals(3.0 / 8, stats.dropFraction(), 1e-12);
        double h = (Math.log(2) + 0 + 1.5 * Math.log(2) + 1.5 * Math.log(2)) / 4;
        assertEquals(h, stats.routerEntropy(), 1e-6);
        assertEquals(1.25, stats.auxLoss());
        assertEquals(0.5, stats.zLoss());
        assertEquals("drop 37.5% cv 0.47", stats.summary());
        assertEquals(false, stats.toMap().get("dropless"));
    }

    @Test
    void prototypeEntropyIsPerGroupAndExpertChoiceDropsCountTokens() {
        // 2 tokens, 2 prototypes of 2 experts.
        float[] probs = {0.5f, 0.5f, 1f, 0f, 1f, 0f, 1f, 0f};
        RoutingStats proto = RoutingStats.of(2, 2, false, new int[] {1, 1, 2, 0}, new int[] {1, 1, 2, 0}, -1,
                RoutingStats.entropySum(probs, 2, 4, 2) / (2 * 2), 0, 0, 2, null);
        assertEquals(Math.log(2) / 4, proto.routerEntropy(), 1e-6);
        assertEquals(0.0, proto.dropFraction());
        // Expert choice over 2 experts, 3 tokens: token 1 taken by none.
        int[] slot = {0, -1, -1, -1, -1, 0};
        assertEquals(1, RoutingStats.untouched(slot, 3, 2));
        RoutingStats choice = RoutingStats.of(3, 1, false, new int[] {1, 1}, new int[] {1, 1}, RoutingStats.untouched(slot, 3, 2),
                Math.log(2), 0, 0, 2.0 / 3, null);
        assertEquals(1.0 / 3, choice.dropFraction(), 1e-12);
        assertEquals(1.0, choice.maxMeanLoad());
        assertEquals(0.0, choice.loadCv());
    }
}
