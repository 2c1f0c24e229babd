package org.moe4j.benchmarks.gpu;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The GPU check kit's one markdown table: JUnit results per test class, the training check, and
 * the MoE layer's forward+backward in tokens/s on moe4j's {@code cuda} device (JMH) next to
 * PyTorch on the same GPU. A missing input is a row saying so.
 *
 * <pre>GpuReport JUNIT_REPORTS_DIR TRAINING.json JMH_MOE.json TORCH_MOE.json</pre>
 */
public final class GpuReport {
    private GpuReport() {
    }

    /** Tests of one class: passed, failed (failures and errors), skipped. */
    record Counts(int passed, int failed, int skipped) {
        Counts plus(Counts o) {
            return new Counts(passed + o.passed, failed + o.failed, skipped + o.skipped);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: GpuReport JUNIT_DIR TRAINING.json JMH_MOE.json TORCH_MOE.json, got "
                    + List.of(args));
        }
        System.out.print(table(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Path.of(args[3])));
    }

    static String table(Path junit, Path training, Path jmh, Path torch) throws Exception {
        List<String> rows = new ArrayList<>();
        JsonObject train = Files.exists(training) ? JsonParser.parseString(Files.readString(training)).getAsJsonObject() : null;
        String device = train != null ? train.get("device").getAsString() : "cuda:0";
        rows.add("| check | moe4j (" + device + ") | PyTorch, same GPU | result |");
        rows.add("|---|---|---|---|");
        Map<String, Counts> tests = junit(junit);
        if (tests.isEmpty()) {
            rows.add("| tests | no JUnit reports in " + junit + " | | not run |");
        }
        tests.forEach((name, c) -> rows.add("| " + name + " | " + c.passed() + " passed, " + c.failed() + " failed, "
                + c.skipped() + " skipped | | " + (c.failed() > 0 ? "FAIL" : c.passed() == 0 ? "SKIPPED (see junit.log)" : "pass")
                + " |"));
        if (train == null) {
            rows.add("| training, 20 steps of the default model, cuda vs jvm | not run | | FAIL |");
        } else {
            double worst = train.get("worst_relative").getAsDouble();
            double tolerance = train.get("tolerance").getAsDouble();
            rows.add(String.format("| training, %d steps of the default model, cuda vs jvm | worst relative loss difference"
                            + " %.2g (GEMMs on %s) | | %s (allowed %.0e) |", train.get("steps").getAsInt(), worst,
                    train.get("gemms").getAsString(), worst <= tolerance ? "pass" : "FAIL", tolerance));
        }
        Map<String, Double> ours = jmhTokensPerSecond(jmh);
        Map<String, Double> theirs = torchTokensPerSecond(torch);
        for (String router : List.of("e8-top1", "e8-top2", "e16-2top1", "e64-top1")) {
            Double a = ours.get(router);
            Double b = theirs.get(router);
            rows.add(String.format("| MoE layer forward+backward %s (T=4096 D=512 F=2048) | %s | %s | %s |", router,
                    a == null ? "not run" : String.format("%,.0f tokens/s", a),
                    b == null ? "not run" : String.format("%,.0f tokens/s", b),
                    a == null || b == null ? "" : String.format("%.2fx PyTorch", a / b)));
        }
        return String.join("\n", rows) + "\n";
    }

    /** Test counts per test class, from the JUnit XML reports in {@code dir}. */
    static Map<String, Counts> junit(Path dir) throws Exception {
        Map<String, Counts> counts = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return counts;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".xml")).sorted().toList()) {
                NodeList cases = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile())
                        .getElementsByTagName("testcase");
                for (int i = 0; i < cases.getLength(); i++) {
                    Element c = (Element) cases.item(i);
                    String name = c.getAttribute("classname");
                    name = name.substring(name.lastIndexOf('.') + 1);
                    boolean failed = c.getElementsByTagName("failure").getLength() + c.getElementsByTagName("error")
                            .getLength() > 0;
                    boolean skipped = c.getElementsByTagName("skipped").getLength() > 0;
                    counts.merge(name, new Counts(failed || skipped ? 0 : 1, failed ? 1 : 0, skipped ? 1 : 0),
                            Counts::plus);
                }
            }
        }
        return counts;
    }

    /** tokens/s per {@code router} param of MoeLayerBench's JMH JSON results (its secondary result). */
    static Map<String, Double> jmhTokensPerSecond(Path file) throws IOException {
        Map<String, Double> result = new TreeMap<>();
        if (Files.exists(file)) {
            for (JsonElement e : JsonParser.parseString(Files.readString(file)).getAsJsonArray()) {
                JsonObject run = e.getAsJsonObject();
                result.put(run.getAsJsonObject("params").get("router").getAsString(),
                        run.getAsJsonObject("secondaryMetrics").getAsJsonObject("tokens").get("score").getAsDouble());
            }
        }
        return result;
    }

    /** The median tokens/s per router of {@code moe_bench.py}'s JSON. */
    static Map<String, Double> torchTokensPerSecond(Path file) throws IOException {
        Map<String, Double> result = new TreeMap<>();
        if (Files.exists(file)) {
            JsonObject moe = JsonParser.parseString(Files.readString(file)).getAsJsonObject().getAsJsonObject("moe");
            for (String router : moe.keySet()) {
                result.put(router, moe.getAsJsonObject(router).get("median").getAsDouble());
            }
        }
        return result;
    }
}
