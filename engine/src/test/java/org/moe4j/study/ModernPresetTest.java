package org.moe4j.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.moe4j.moe.MoeConfig;
import org.moe4j.moe.ParameterCounts;
import org.moe4j.nn.ModelConfig;
import org.moe4j.train.TrainConfig;

/**
 * The {@code modern} study compares the routings it names, every run a valid config, at equal
 * active compute and equal parameters.
 */
class ModernPresetTest {

    @Test
    void fullPresetHasTheSixRoutingsWithTwoSeeds() {
        StudyGrid grid = ModernPreset.grid("full");
        assertEquals("modern-full", grid.name());
        assertEquals(List.of("top2", "2top1", "top2-shared", "fine-top4-shared", "sigmoid-bias", "dropless-top2"),
                grid.configs().stream().map(GridConfig::name).toList());
        assertEquals(List.of(1L, 2L), grid.seeds());
        assertEquals(12, grid.runs().size());

        MoeConfig top2 = moe(grid, "top2");
        assertEquals(new MoeConfig("topk", 8, 2, 1.25, 2.0, false, 0.01, 0.0, 0.0, "gelu", 120, 1), top2);
        MoeConfig prototype = moe(grid, "2top1");
        assertEquals("prototype", prototype.router());
        assertEquals(2, prototype.k());
        MoeConfig shared = moe(grid, "top2-shared");
        assertEquals(List.of(11, 2, 80, 1), List.of(shared.experts(), shared.k(), shared.hidden(), shared.sharedExperts()));
        MoeConfig fine = moe(grid, "fine-top4-shared");
        assertEquals(List.of(19, 4, 48, 1), List.of(fine.experts(), fine.k(), fine.hidden(), fine.sharedExperts()));
        MoeConfig sigmoid = moe(grid, "sigmoid-bias");
        assertEquals(List.of("sigmoid", "bias"), List.of(sigmoid.gate(), sigmoid.balance()));
        assertEquals(0.0, sigmoid.auxLossCoef());
        MoeConfig dropless = moe(grid, "dropless-top2");
        assertEquals(List.of(0.0, 0.0), List.of(dropless.capacityFactor(), dropless.evalCapacityFactor()));
        // Only the named option differs from top-2.
        assertEquals(top2, new MoeConfig(dropless.router(), dropless.experts(), dropless.k(), 1.25, 2.0,
                dropless.renormalize(), dropless.auxLossCoef(), dropless.zLossCoef(), dropless.jitter(),
                dropless.expert(), dropless.hidden(), dropless.every()));
    }

    @Test
    void everyRunHasTheSameActiveComputeAndParameters() {
        for (String preset : ModernPreset.PRESETS) {
            StudyGrid grid = ModernPreset.grid(preset);
            int budget = grid.base().getAsJsonObject("model").get("hidden").getAsInt();
            ParameterCounts baseline = null;
            ModelConfig sameShape = null;
            for (StudyRun run : grid.runs()) {
                String what = preset + " " + run.id();
                TrainConfig config = grid.config(run.config(), run.seed());
                MoeConfig moe = config.model().moe();
                // Compute: k routed and s shared experts of width h per token, (k + s)·h = H.
                assertEquals(budget, (moe.k() + moe.sharedExperts()) * moe.hidden(), what);
                // Parameters: (E + s)·h hidden units in experts, as many as 8 experts of H/2.
                assertEquals(ModernPreset.BASE_EXPERTS * budget / 2, (moe.experts() + moe.sharedExperts()) * moe.hidden(),
                        what);
                // As the model counts them: beyond the baseline, only the router's E rows and the
                // experts' output biases, one of width D per expert, are there.
                ParameterCounts counts = StudyReport.parameterCounts(config);
                if (baseline == null) {
                    baseline = counts;
                }
                int layersTimesWidth = config.model().layers() * config.model().width();
                int extraRows = moe.experts() - ModernPreset.BASE_EXPERTS;
                assertEquals(baseline.total() + (long) layersTimesWidth
                        * (extraRows + moe.experts() + moe.sharedExperts() - ModernPreset.BASE_EXPERTS), counts.total(), what);
                assertEquals(baseline.active() + (long) layersTimesWidth * (extraRows + moe.k() + moe.sharedExperts() - 2),
                        counts.active(), what);
                ModelConfig shape = config.model().withMoe(null);
                if (sameShape == null) {
                    sameShape = shape;
                }
                assertEquals(sameShape, shape, what);
                assertEquals(run.seed(), config.seed(), what);
            }
        }
    }

    @Test
    void unknownPresetIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModernPreset.grid("huge"));
        assertTrue(e.getMessage().contains("'huge'") && e.getMessage().contains("quick"), e.getMessage());
    }

    private static MoeConfig moe(StudyGrid grid, String name) {
        GridConfig config = grid.configs().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
        return grid.config(config, 1).model().moe();
    }
}
