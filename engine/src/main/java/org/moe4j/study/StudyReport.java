package org.moe4j.study;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.moe.ParameterCounts;
import org.moe4j.nn.GptModel;
import org.moe4j.train.Perplexity;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.checkpoint.AtomicFiles;

/**
 * A study's results: {@value #RESULTS_MD} (one table row per configuration, statistics over its
 * seeds), {@value #RESULTS_JSON} (the same and every run) and the plots of {@link StudyPlots}.
 * The columns are explained in {@code docs/study.md}.
 */
public final class StudyReport {
    public static final String RESULTS_MD = "results.md";
    public static final String RESULTS_JSON = "results.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    private StudyReport() {
    }

    /**
     * One configuration of the table.
     *
     * @param config      the grid configuration
     * @param trainConfig its training config (of the first seed)
     * @param parameters  total and active parameters ({@link #parameterCounts})
     * @param runs        its runs, one per seed
     */
    public record Row(GridConfig config, TrainConfig trainConfig, ParameterCounts parameters, List<RunResult> runs) {

        /** The runs that finished. */
        public List<RunResult> done() {
            return runs.stream().filter(r -> r.status() == RunResult.Status.DONE).toList();
        }

        /** Mean of a statistic over the finished runs that have it; NaN if none. */
        public double mean(ToDoubleFunction<RunResult> statistic) {
            return done().stream().mapToDouble(statistic).filter(Double::isFinite).average().orElse(Double.NaN);
        }

        /** Sample standard deviation of a statistic over the finished runs; NaN for fewer than two. */
        public double std(ToDoubleFunction<RunResult> statistic) {
            double[] v = done().stream().mapToDouble(statistic).filter(Double::isFinite).toArray();
            if (v.length < 2) {
                return Double.NaN;
            }
            double mean = 0;
            for (double x : v) {
                mean += x / v.length;
            }
            double ss = 0;
            for (double x : v) {
                ss += (x - mean) * (x - mean);
            }
            return Math.sqrt(ss / (v.length - 1));
        }

        public double meanEvalLoss() {
            return mean(RunResult::finalEvalLoss);
        }
    }

    /** Groups the results by configuration, in grid order. */
    public static List<Row> rows(StudyGrid grid, List<Study.PlannedRun> planned, List<RunResult> results) {
        List<Row> rows = new ArrayList<>();
        for (GridConfig config : grid.configs()) {
            List<RunResult> runs = results.stream().filter(r -> r.run().config().equals(config)).toList();
            TrainConfig trainConfig = planned.stream().filter(p -> p.run().config().equals(config)).findFirst()
                    .orElseThrow().config();
            rows.add(new Row(config, trainConfig, parameterCounts(trainConfig), runs));
        }
        return rows;
    }

    /**
     * Total and active parameters of {@code config}'s model, as {@code moe train} and {@code moe inspect}
     * count them ({@link ParameterCounts}): the model is built (untrained) and its parameters
     * counted, so custom experts count too. Active parameters leave out, in each MoE layer, the
     * experts a token does not pass through.
     */
    static ParameterCounts parameterCounts(TrainConfig config) {
        try (Device device = new JvmDevice(1, false)) {
            Map<String, Long> sizes = new LinkedHashMap<>();
            new GptModel(config.model(), device, config.seed()).parameters()
                    .forEach((name, p) -> sizes.put(name, (long) p.size()));
            return ParameterCounts.of(sizes, config.model().moe());
        }
    }

    /** Writes {@value #RESULTS_MD}, {@value #RESULTS_JSON} and the plots into {@code dir}. */
    public static void write(Path dir, StudyGrid grid, List<Study.PlannedRun> planned, List<RunResult> results)
            throws IOException {
        List<Row> rows = rows(grid, planned, results);
        List<String> plots = StudyPlots.write(dir, grid, rows);
        writeText(dir.resolve(RESULTS_MD), markdown(grid, rows, plots));
        writeText(dir.resolve(RESULTS_JSON), GSON.toJson(json(grid, rows)) + "\n");
    }

    /** The table and notes of {@value #RESULTS_MD}. */
    static String markdown(StudyGrid grid, List<Row> rows, List<String> plots) {
        int total = rows.stream().mapToInt(r -> r.runs().size()).sum();
        long done = rows.stream().mapToLong(r -> r.done().size()).sum();
        List<RunResult> failed = rows.stream().flatMap(r -> r.runs().stream())
                .filter(r -> r.status() == RunResult.Status.FAILED).toList();
        StringBuilder md = new StringBuilder();
        md.append("# Study ").append(grid.name()).append("\n\n");
        md.append(String.format(Locale.ROOT, "%d runs: %d finished, %d failed, %d not run. Seeds %s. ", total, done,
                failed.size(), total - done - failed.size(), grid.seeds()));
        md.append("Eval loss is the last evaluation's held-out loss, mean ± standard deviation over the seeds that "
                + "finished; perplexity is exp of the mean; the other columns are means over those seeds. "
                + RoutingMetrics.ABSENT_TEXT + " means not reported. See docs/study.md.\n\n");
        md.append("| config | seeds done | eval loss | perplexity | drop rate | load CV | router entropy | slot use "
                + "| tokens/s | params | active params |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            int n = row.done().size();
            double loss = row.meanEvalLoss();
            double std = row.std(RunResult::finalEvalLoss);
            String lossText = n == 0 ? (row.runs().stream().anyMatch(r -> r.status() == RunResult.Status.FAILED)
                    ? "**failed**" : "not run")
                    : RoutingMetrics.format(loss, 4) + (Double.isFinite(std) ? " ± " + RoutingMetrics.format(std, 4) : "");
            double drop = row.mean(r -> r.routing().dropRate());
            md.append("| ").append(row.config().name())
                    .append(" | ").append(n).append('/').append(row.runs().size())
                    .append(" | ").append(lossText)
                    .append(" | ").append(Double.isFinite(loss) ? Perplexity.format(Math.exp(loss)) : RoutingMetrics.ABSENT_TEXT)
                    .append(" | ").append(Double.isFinite(drop) ? RoutingMetrics.format(100 * drop, 2) + "%"
                            : RoutingMetrics.ABSENT_TEXT)
                    .append(" | ").append(RoutingMetrics.format(row.mean(r -> r.routing().loadCv()), 3))
                    .append(" | ").append(RoutingMetrics.format(row.mean(r -> r.routing().routerEntropy()), 3))
                    .append(" | ").append(RoutingMetrics.format(row.mean(r -> r.routing().slotUse()), 3))
                    .append(" | ").append(RoutingMetrics.format(row.mean(RunResult::tokensPerSecond), 0))
                    .append(" | ").append(String.format(Locale.ROOT, "%,d", row.parameters().total()))
                    .append(" | ").append(String.format(Locale.ROOT, "%,d", row.parameters().active()))
                    .append(" |\n");
        }
        md.append("\n## Configurations\n\n");
        for (Row row : rows) {
            md.append("- `").append(row.config().name()).append("`: ")
                    .append(row.config().settings().isEmpty() ? "the base config" : row.config().describe()).append('\n');
        }
        if (!failed.isEmpty()) {
            md.append("\n## Failed runs\n\n");
            for (RunResult r : failed) {
                md.append("- `").append(r.run().id()).append("`: ").append(r.error().replace('\n', ' ')).append('\n');
            }
        }
        if (!plots.isEmpty()) {
            md.append("\n## Plots\n\n");
            for (String plot : plots) {
                md.append("![").append(plot).append("](").append(plot).append(")\n");
            }
        }
        return md.toString();
    }

    /** The contents of {@value #RESULTS_JSON}; numbers that are not there are null. */
    static JsonObject json(StudyGrid grid, List<Row> rows) {
        JsonObject json = new JsonObject();
        json.addProperty("name", grid.name());
        JsonArray seeds = new JsonArray();
        grid.seeds().forEach(seeds::add);
        json.add("seeds", seeds);
        JsonArray configs = new JsonArray();
        for (Row row : rows) {
            JsonObject c = new JsonObject();
            c.addProperty("name", row.config().name());
            JsonObject settings = new JsonObject();
            row.config().settings().forEach((k, v) -> settings.add(k, v.deepCopy()));
            c.add("settings", settings);
            c.addProperty("seeds_done", row.done().size());
            c.addProperty("seeds_failed", row.runs().stream().filter(r -> r.status() == RunResult.Status.FAILED).count());
            c.add("eval_loss_mean", number(row.meanEvalLoss()));
            c.add("eval_loss_std", number(row.std(RunResult::finalEvalLoss)));
            c.add("eval_ppl", number(Math.exp(row.meanEvalLoss())));
            c.add("drop_rate", number(row.mean(r -> r.routing().dropRate())));
            c.add("load_cv", number(row.mean(r -> r.routing().loadCv())));
            c.add("router_entropy", number(row.mean(r -> r.routing().routerEntropy())));
            c.add("slot_use", number(row.mean(r -> r.routing().slotUse())));
            c.add("tokens_per_s", number(row.mean(RunResult::tokensPerSecond)));
            c.addProperty("params_total", row.parameters().total());
            c.addProperty("params_active", row.parameters().active());
            JsonArray runs = new JsonArray();
            for (RunResult r : row.runs()) {
                JsonObject run = new JsonObject();
                run.addProperty("id", r.run().id());
                run.addProperty("seed", r.run().seed());
                run.addProperty("status", r.status().name().toLowerCase(Locale.ROOT));
                run.add("error", r.error() == null ? JsonNull.INSTANCE : new JsonPrimitive(r.error()));
                run.add("final_eval_loss", number(r.finalEvalLoss()));
                run.add("drop_rate", number(r.routing().dropRate()));
                run.add("load_cv", number(r.routing().loadCv()));
                run.add("router_entropy", number(r.routing().routerEntropy()));
                run.add("slot_use", number(r.routing().slotUse()));
                run.add("tokens_per_s", number(r.tokensPerSecond()));
                run.add("seconds", number(r.seconds()));
                JsonArray curve = new JsonArray();
                for (int i = 0; i < r.evalSteps().length; i++) {
                    JsonArray point = new JsonArray();
                    point.add((long) r.evalSteps()[i]);
                    point.add(number(r.evalLosses()[i]));
                    curve.add(point);
                }
                run.add("eval_loss_curve", curve);
                runs.add(run);
            }
            c.add("runs", runs);
            configs.add(c);
        }
        json.add("configs", configs);
        return json;
    }

    /** Writes UTF-8 text atomically. */
    static void writeText(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.writeStream(file, out -> out.write(bytes));
    }

    private static JsonElement number(double v) {
        return Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
    }
}
