package org.moe4j.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;
import org.moe4j.moe.RoutingStats;
import org.moe4j.train.TrainConfig;

/** The routing columns read from metrics lines, and the table with and without them. */
class RoutingMetricsTest {

    @Test
    void denseLineHasNoRoutingStatistics() {
        RoutingMetrics m = RoutingMetrics.fromMetricsLine(Map.of("step", 10L, "loss", 2.5));
        assertFalse(m.present());
        assertTrue(Double.isNaN(m.dropRate()) && Double.isNaN(m.loadCv()) && Double.isNaN(m.routerEntropy())
                && Double.isNaN(m.slotUse()));
        assertEquals("–", RoutingMetrics.format(m.loadCv(), 3));
        assertEquals("0.125", RoutingMetrics.format(0.125, 3));
    }

    @Test
    void perLayerStatisticsOfTheTrainerAreAveraged() {
        // The form the trainer writes: "moe" is a list, one RoutingStats map per MoE layer plus its block.
        Map<String, Object> line = Map.of("step", 10L, "loss", 2.5, "aux_loss", 2.1, "moe", List.of(
                layer(0, new RoutingStats(64, 10, false, new double[] {40, 24}, new double[] {10, 10}, 1.25, 0.25, 0.1, 1.0,
                        1.1, 0, 0.5, 1, null)),
                layer(1, new RoutingStats(64, 10, false, new double[] {32, 32}, new double[] {10, 10}, 1.0, 0.75, 0.3, 0.5,
                        1.0, 0, 0.9, 1, null))));
        assertEquals(new RoutingMetrics(0.2, 0.5, 0.75, 0.7), round(RoutingMetrics.fromMetricsLine(line)));
    }

    @Test
    void aLayerWithoutAStatisticIsLeftOutOfItsMean() {
        Map<String, Object> line = Map.of("moe", List.of(Map.of("load_cv", 0.2, "drop_fraction", 0.5),
                Map.of("load_cv", 0.4)));
        RoutingMetrics m = RoutingMetrics.fromMetricsLine(line);
        assertEquals(0.3, m.loadCv(), 1e-12);
        assertEquals(0.5, m.dropRate(), 1e-12);
        assertTrue(Double.isNaN(m.routerEntropy()));
    }

    @Test
    void lastLineWithStatisticsWins() {
        List<Map<String, Object>> lines = List.of(
                Map.of("step", 1L, "moe", List.of(Map.of("load_cv", 0.9))),
                Map.of("step", 2L, "moe", List.of(Map.of("load_cv", 0.4))),
                Map.of("step", 3L, "eval_loss", 2.0));
        assertEquals(0.4, RoutingMetrics.last(lines).loadCv(), 1e-12);
        assertFalse(RoutingMetrics.last(List.of(Map.of("step", 1L))).present());
    }

    @Test
    void tableShowsRoutingColumnsWhenReported() {
        GridConfig config = new GridConfig("top2", Map.of("learning_rate", new JsonPrimitive(0.01)));
        StudyGrid grid = new StudyGrid("g", new JsonObject(), List.of(config), List.of(1L, 2L), List.of());
        List<RunResult> runs = List.of(
                result(new StudyRun(config, 1), 2.0, new RoutingMetrics(0.02, 0.5, 1.2, 0.8)),
                result(new StudyRun(config, 2), 2.2, new RoutingMetrics(0.04, 0.7, 1.4, 0.9)));
        TrainConfig trainConfig = grid.config(config, 1);
        StudyReport.Row row = new StudyReport.Row(config, trainConfig, StudyReport.parameterCounts(trainConfig), runs);
        String md = StudyReport.markdown(grid, List.of(row), List.of());
        assertTrue(md.contains("| top2 | 2/2 | 2.1000 ± 0.1414 | 8.166 | 3.00% | 0.600 | 1.300 | 0.850 | 1000 | "), md);
        assertEquals(trainConfig.model().parameterCount(), row.parameters().total());
        assertTrue(StudyPlots.loadCvVsLoss(List.of(row)) != null);
    }

    private static RunResult result(StudyRun run, double loss, RoutingMetrics routing) {
        return new RunResult(run, RunResult.Status.DONE, null, loss, new double[] {10}, new double[] {loss}, 1000,
                routing, 1);
    }

    private static Map<String, Object> layer(int block, RoutingStats stats) {
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("block", block);
        layer.putAll(stats.toMap());
        return layer;
    }

    private static RoutingMetrics round(RoutingMetrics m) {
        return new RoutingMetrics(Math.round(m.dropRate() * 1e9) / 1e9, Math.round(m.loadCv() * 1e9) / 1e9,
                Math.round(m.routerEntropy() * 1e9) / 1e9, Math.round(m.slotUse() * 1e9) / 1e9);
    }
}
