package org.moe4j.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The M6-T preset expands to the runs the paper's questions need. Checked on the grid itself,
 * without building configs: the {@code model.moe} fields belong to the MoE layer's config.
 */
class M6tPresetTest {

    @Test
    void fullPresetHasEveryRouterCapacitySweepAndAuxOffWithTwoSeeds() {
        StudyGrid grid = M6tPreset.grid("full");
        assertEquals("m6t-full", grid.name());
        assertEquals(List.of("top1", "top1-noaux",
                "top2-cf0.5", "top2-cf1.0", "top2-cf1.25", "top2-cf2.0", "top2-noaux",
                "2top1-cf0.5", "2top1-cf1.0", "2top1-cf1.25", "2top1-cf2.0", "2top1-noaux",
                "top4", "top4-noaux", "4top1", "4top1-noaux"), grid.configs().stream().map(GridConfig::name).toList());
        assertEquals(List.of(1L, 2L), grid.seeds());
        assertEquals(32, grid.runs().size());
        assertEquals("top1-s1", grid.runs().get(0).id());
        assertEquals(List.of("model.moe.capacity_factor"), grid.plotLossAgainst());

        assertSettings(grid, "top1", "switch", 1, 256, 1.25, 0.01);
        assertSettings(grid, "top1-noaux", "switch", 1, 256, 1.25, 0.0);
        assertSettings(grid, "top2-cf0.5", "topk", 2, 128, 0.5, 0.01);
        assertSettings(grid, "top2-cf2.0", "topk", 2, 128, 2.0, 0.01);
        assertSettings(grid, "2top1-cf1.0", "prototype", 2, 128, 1.0, 0.01);
        assertSettings(grid, "2top1-noaux", "prototype", 2, 128, 1.25, 0.0);
        assertSettings(grid, "top4", "topk", 4, 64, 1.25, 0.01);
        assertSettings(grid, "4top1-noaux", "prototype", 4, 64, 1.25, 0.0);

        // Equal active compute: k times the expert hidden width is the same for every run.
        for (GridConfig config : grid.configs()) {
            int k = config.settings().get("model.moe.k").getAsInt();
            assertEquals(256, k * config.settings().get("model.moe.hidden").getAsInt(), config.name());
        }
        // Everything else is shared: the base holds the model, the steps and the MoE defaults.
        assertEquals(8, grid.base().getAsJsonObject("model").getAsJsonObject("moe").get("experts").getAsInt());
        assertEquals(300, grid.base().get("steps").getAsInt());
        assertTrue(grid.base().getAsJsonObject("model").getAsJsonObject("moe").get("every").getAsInt() == 1);
    }

    @Test
    void quickPresetIsTheSameGridOnASmallerModel() {
        StudyGrid quick = M6tPreset.grid("quick");
        StudyGrid full = M6tPreset.grid("full");
        assertEquals(full.configs().stream().map(GridConfig::name).toList(),
                quick.configs().stream().map(GridConfig::name).toList());
        assertEquals(full.seeds(), quick.seeds());
        assertTrue(quick.base().get("steps").getAsInt() < full.base().get("steps").getAsInt());
        assertTrue(quick.base().getAsJsonObject("model").get("width").getAsInt()
                < full.base().getAsJsonObject("model").get("width").getAsInt());
        assertSettings(quick, "4top1", "prototype", 4, 32, 1.25, 0.01);
    }

    @Test
    void unknownPresetAndIndivisibleHiddenAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> M6tPreset.grid("huge"));
        assertTrue(e.getMessage().contains("'huge'") && e.getMessage().contains("quick"), e.getMessage());
        assertEquals(64, M6tPreset.expertHidden(256, 4));
        assertThrows(IllegalArgumentException.class, () -> M6tPreset.expertHidden(256, 3));
    }

    private static void assertSettings(StudyGrid grid, String name, String router, int k, int hidden,
                                       double capacityFactor, double auxLossCoef) {
        GridConfig config = grid.configs().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
        Map<String, JsonElement> s = config.settings();
        assertEquals(List.of("model.moe.router", "model.moe.k", "model.moe.hidden", "model.moe.capacity_factor",
                "model.moe.aux_loss_coef"), List.copyOf(s.keySet()), name);
        assertEquals(router, s.get("model.moe.router").getAsString(), name);
        assertEquals(k, s.get("model.moe.k").getAsInt(), name);
        assertEquals(hidden, s.get("model.moe.hidden").getAsInt(), name);
        assertEquals(capacityFactor, s.get("model.moe.capacity_factor").getAsDouble(), name);
        assertEquals(auxLossCoef, s.get("model.moe.aux_loss_coef").getAsDouble(), name);
    }
}
