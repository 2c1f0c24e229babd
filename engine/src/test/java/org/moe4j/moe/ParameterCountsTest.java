package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterCountsTest {

    @Test
    void activeParametersCountKOfEExpertsPerLayer() {
        Map<String, Long> sizes = new LinkedHashMap<>();
        sizes.put("token_embedding", 1000L);
        sizes.put("blocks.0.ffn.router.weight", 32L);
        sizes.put("blocks.0.ffn.experts.up.weight", 800L);
        sizes.put("blocks.0.ffn.experts.down.weight", 800L);
        sizes.put("blocks.1.ffn.up.weight", 100L);
        ParameterCounts counts = ParameterCounts.of(sizes, MoeConfig.DEFAULT); // 2 of 8 experts per token
        assertEquals(2732, counts.total());
        assertEquals(1600, counts.experts());
        assertEquals(2732 - 1600 + 400, counts.active());
        assertEquals(Map.of("blocks.0.ffn.", 1600L), counts.expertsByLayer());
        assertEquals(2732, ParameterCounts.of(sizes, null).active());
    }

    @Test
    void sharedExpertsAreActiveForEveryToken() {
        Map<String, Long> sizes = new LinkedHashMap<>();
        sizes.put("blocks.0.ffn.router.weight", 32L);
        sizes.put("blocks.0.ffn.experts.up.weight", 800L);
        sizes.put("blocks.0.ffn.shared.up.weight", 100L);
        MoeConfig fineGrained = new MoeConfig("topk", 8, 2, 1.25, 2.0, false, 0.01, 0.001, 0, "gelu", 16, 1, 1,
                "softmax", "aux_loss", 0.001, "batch", 1, 1);
        ParameterCounts counts = ParameterCounts.of(sizes, fineGrained);
        assertEquals(932, counts.total());
        assertEquals(800, counts.experts(), "the routed experts only");
        assertEquals(32 + 100 + 200, counts.active(), "router, the shared expert, 2 of 8 routed experts");
    }
}
