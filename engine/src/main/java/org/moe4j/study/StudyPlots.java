package org.moe4j.study;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.metrics.LinePlot;

/**
 * A study's plots:
 * <ul>
 *   <li>{@value #EVAL_CURVES}: eval loss against step, one line per configuration (mean over its
 *       finished seeds);</li>
 *   <li>{@code loss_vs_<field>.png}: final eval loss against a numeric field (the capacity factor
 *       in the M6-T grid), one line per group of configurations that agree on every other varied
 *       field;</li>
 *   <li>{@value #LOAD_CV_VS_LOSS}: final eval loss against load coefficient of variation, one point
 *       per finished run, when the runs report it.</li>
 * </ul>
 */
final class StudyPlots {
    static final String EVAL_CURVES = "eval_loss.png";
    static final String LOAD_CV_VS_LOSS = "load_cv_vs_loss.png";

    private StudyPlots() {
    }

    /** Writes the plots that have data; returns their file names. */
    static List<String> write(Path dir, StudyGrid grid, List<StudyReport.Row> rows) throws IOException {
        List<String> written = new ArrayList<>();
        evalCurves(rows).save(dir.resolve(EVAL_CURVES));
        written.add(EVAL_CURVES);
        for (String field : lossAgainstFields(grid, rows)) {
            LinePlot plot = lossAgainst(grid, rows, field);
            if (plot != null) {
                String name = "loss_vs_" + field + ".png";
                plot.save(dir.resolve(name));
                written.add(name);
            }
        }
        LinePlot scatter = loadCvVsLoss(rows);
        if (scatter != null) {
            scatter.save(dir.resolve(LOAD_CV_VS_LOSS));
            written.add(LOAD_CV_VS_LOSS);
        }
        return written;
    }

    static LinePlot evalCurves(List<StudyReport.Row> rows) {
        LinePlot plot = new LinePlot("Eval loss (mean over seeds)", "step", "eval loss (nats/token)").size(1000, 620);
        for (StudyReport.Row row : rows) {
            List<RunResult> done = row.done();
            if (done.isEmpty()) {
                continue;
            }
            double[] steps = done.get(0).evalSteps();
            double[] mean = new double[steps.length];
            int n = 0;
            for (RunResult r : done) {
                if (Arrays.equals(r.evalSteps(), steps)) {
                    for (int i = 0; i < steps.length; i++) {
                        mean[i] += r.evalLosses()[i];
                    }
                    n++;
                }
            }
            for (int i = 0; i < mean.length; i++) {
                mean[i] /= n;
            }
            plot.add(row.config().name(), steps, mean);
        }
        return plot;
    }

    /**
     * The fields of {@code plot_loss_against}, or else every varied field with two or more numeric
     * values. Configurations without the field (a dense model has no {@code model.moe.*}) are left out.
     */
    static List<String> lossAgainstFields(StudyGrid grid, List<StudyReport.Row> rows) {
        if (!grid.plotLossAgainst().isEmpty()) {
            return grid.plotLossAgainst();
        }
        List<String> fields = new ArrayList<>();
        for (String field : variedFields(grid)) {
            Set<Double> values = new LinkedHashSet<>();
            boolean numeric = true;
            for (StudyReport.Row row : rows) {
                JsonElement v = field(tree(row.trainConfig()), field);
                if (absent(v)) {
                    continue;
                }
                numeric &= v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber();
                if (numeric) {
                    values.add(v.getAsDouble());
                }
            }
            if (numeric && values.size() >= 2) {
                fields.add(field);
            }
        }
        return fields;
    }

    /**
     * Final eval loss against {@code field}: configurations that agree on every other varied field
     * form one line; lines with fewer than two points are left out, and so are configurations without
     * the field. Null if no line remains or the field is not a number in these configs.
     */
    static LinePlot lossAgainst(StudyGrid grid, List<StudyReport.Row> rows, String field) {
        List<String> others = variedFields(grid).stream().filter(f -> !f.equals(field)).toList();
        Map<Map<String, String>, List<double[]>> groups = new LinkedHashMap<>();
        for (StudyReport.Row row : rows) {
            JsonObject tree = tree(row.trainConfig());
            JsonElement x = field(tree, field);
            if (absent(x)) {
                continue; // not a point of this plot: the config has no such field (a dense model's moe)
            }
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                return null;
            }
            // A varied field that holds this one (model.moe around model.moe.capacity_factor) is
            // compared without it: two MoE settings that differ only in x are one line.
            int dot = field.lastIndexOf('.');
            (dot < 0 ? tree : field(tree, field.substring(0, dot))).getAsJsonObject().remove(field.substring(dot + 1));
            Map<String, String> key = new LinkedHashMap<>();
            for (String other : others) {
                JsonElement v = field(tree, other);
                key.put(other, v == null ? "null" : StudyGrid.text(v));
            }
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(new double[] {x.getAsDouble(), row.meanEvalLoss()});
        }
        groups.values().removeIf(points -> points.stream().filter(p -> Double.isFinite(p[1])).count() < 2);
        if (groups.isEmpty()) {
            return null;
        }
        // Name each line by the fields on which the lines differ.
        List<String> differing = others.stream()
                .filter(f -> groups.keySet().stream().map(k -> k.get(f)).distinct().count() > 1).toList();
        LinePlot plot = new LinePlot("Final eval loss against " + field, field, "final eval loss (nats/token)");
        for (Map.Entry<Map<String, String>, List<double[]>> group : groups.entrySet()) {
            List<double[]> points = group.getValue().stream().sorted((a, b) -> Double.compare(a[0], b[0])).toList();
            StringBuilder name = new StringBuilder();
            for (String f : differing) {
                name.append(name.isEmpty() ? "" : ", ").append(f.substring(f.lastIndexOf('.') + 1)).append('=')
                        .append(group.getKey().get(f));
            }
            plot.add(name.isEmpty() ? "all" : name.toString(), points.stream().mapToDouble(p -> p[0]).toArray(),
                    points.stream().mapToDouble(p -> p[1]).toArray());
        }
        return plot;
    }

    /** Final eval loss against load CV, one point per finished run; null if no run reports load CV. */
    static LinePlot loadCvVsLoss(List<StudyReport.Row> rows) {
        LinePlot plot = new LinePlot("Load imbalance and quality", "load coefficient of variation (std/mean tokens per expert)",
                "final eval loss (nats/token)").size(1000, 620);
        boolean any = false;
        for (StudyReport.Row row : rows) {
            List<RunResult> having = row.done().stream()
                    .filter(r -> Double.isFinite(r.routing().loadCv()) && Double.isFinite(r.finalEvalLoss())).toList();
            if (!having.isEmpty()) {
                any = true;
                plot.addPoints(row.config().name(), having.stream().mapToDouble(r -> r.routing().loadCv()).toArray(),
                        having.stream().mapToDouble(RunResult::finalEvalLoss).toArray());
            }
        }
        return any ? plot : null;
    }

    /** Every field some configuration sets, in first-seen order. */
    static List<String> variedFields(StudyGrid grid) {
        Set<String> fields = new LinkedHashSet<>();
        grid.configs().forEach(c -> fields.addAll(c.settings().keySet()));
        return List.copyOf(fields);
    }

    private static JsonObject tree(TrainConfig config) {
        return JsonParser.parseString(ConfigLoader.toJson(config)).getAsJsonObject();
    }

    private static boolean absent(JsonElement value) {
        return value == null || value.isJsonNull();
    }

    /** The value of a dotted field in a config's JSON tree; null if there is none. */
    static JsonElement field(JsonObject tree, String dotted) {
        JsonElement node = tree;
        for (String part : dotted.split("\\.")) {
            if (node == null || !node.isJsonObject()) {
                return null;
            }
            node = node.getAsJsonObject().get(part);
        }
        return node;
    }
}
