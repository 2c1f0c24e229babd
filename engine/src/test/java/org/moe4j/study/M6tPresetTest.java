package org.moe4j.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.moe4j.moe.MoeConfig;
import org.moe4j.nn.ModelConfig;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.TrainConfig;

/**
 * The M6-T preset expands to the runs the paper's questions need, and every run's config is a
 * valid MoE config built by the real config loader.
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
        assertEquals(500, grid.base().get("steps").getAsInt());
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
    void everyRunOfBothPresetsBuildsThroughTheConfigLoader() {
        for (String preset : M6tPreset.PRESETS) {
            StudyGrid grid = M6tPreset.grid(preset);
            int budget = grid.base().getAsJsonObject("model").getAsJsonObject("moe").get("hidden").getAsInt();
            Set<Long> activeExpertWeights = new HashSet<>();
            ModelConfig shared = null;
            for (StudyRun run : grid.runs()) {
                String what = preset + " " + run.id();
                Map<String, JsonElement> s = run.config().settings();
                // StudyGrid.config: defaults, then the base, then the run's settings, through ConfigLoader.
                TrainConfig config = grid.config(run.config(), run.seed());
                assertEquals(config, new ConfigLoader(TrainConfig.DEFAULT).merge(grid.base())
                        .set("model.moe.router", s.get("model.moe.router"))
                        .set("model.moe.k", s.get("model.moe.k"))
                        .set("model.moe.hidden", s.get("model.moe.hidden"))
                        .set("model.moe.capacity_factor", s.get("model.moe.capacity_factor"))
                        .set("model.moe.aux_loss_coef", s.get("model.moe.aux_loss_coef"))
                        .set("seed", Long.toString(run.seed())).build(), what);
                assertEquals(run.seed(), config.seed(), what);
                assertEquals(null, config.data(), what + ": the built-in corpus");

                MoeConfig moe = config.model().moe();
                assertNotNull(moe, what);
                assertTrue(MoeConfig.ROUTERS.contains(moe.router()), what);
                assertEquals(s.get("model.moe.router").getAsString(), moe.router(), what);
                assertEquals(s.get("model.moe.k").getAsInt(), moe.k(), what);
                assertEquals(s.get("model.moe.capacity_factor").getAsDouble(), moe.capacityFactor(), what);
                assertEquals(s.get("model.moe.aux_loss_coef").getAsDouble(), moe.auxLossCoef(), what);
                assertEquals(M6tPreset.EXPERTS, moe.experts(), what);
                assertEquals(M6tPreset.EVAL_CAPACITY_FACTOR, moe.evalCapacityFactor(), what);
                assertEquals(0.0, moe.zLossCoef(), what);
                assertEquals(0.0, moe.jitter(), what);
                assertFalse(moe.renormalize(), what);
                assertEquals("gelu", moe.expert(), what);
                assertEquals(1, moe.every(), what);
                for (int block = 0; block < config.model().layers(); block++) {
                    assertTrue(config.model().isMoeBlock(block), what + ": every block is MoE");
                }
                // The routers the paper compares, under the names MoeConfig knows.
                String name = run.config().name();
                String router = name.startsWith("top1") ? "switch" : name.contains("top1") ? "prototype" : "topk";
                assertEquals(router, moe.router(), what);
                assertEquals(name.startsWith("top1") ? 1 : name.contains("4") ? 4 : 2, moe.k(), what);

                // Equal active compute: k experts of width hidden per token, k · hidden the same for all.
                assertEquals(budget, (int) moe.activeExpertsPerToken() * moe.hidden(), what);
                activeExpertWeights.add((long) moe.activeExpertsPerToken() * 2 * config.model().width() * moe.hidden());

                // Everything but the routing is the same in every run.
                ModelConfig shape = config.model().withMoe(null);
                if (shared == null) {
                    shared = shape;
                }
                assertEquals(shared, shape, what);
                assertEquals(grid.base().get("steps").getAsInt(), config.steps(), what);
                assertEquals(grid.base().get("batch_size").getAsInt(), config.batchSize(), what);
            }
            assertEquals(1, activeExpertWeights.size(), preset + ": expert weights per token " + activeExpertWeights);
        }
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
