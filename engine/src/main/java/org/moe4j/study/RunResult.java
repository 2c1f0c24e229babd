package org.moe4j.study;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.moe4j.train.metrics.MetricsLog;

/**
 * What one run of a study left in its directory: its status, and from its metrics the final eval
 * loss, the eval loss curve, throughput and routing statistics.
 *
 * @param run             the run
 * @param status          done, failed, or not run
 * @param error           why it failed; null otherwise
 * @param finalEvalLoss   eval loss of the last evaluation; NaN if none
 * @param evalSteps       steps of the evaluations
 * @param evalLosses      eval loss at each of {@code evalSteps}
 * @param tokensPerSecond mean training throughput over the logged windows after the first (which
 *                        includes warm-up); NaN if none
 * @param routing         routing statistics of the last line that has them
 * @param seconds         wall time of the run; NaN if unknown
 */
public record RunResult(StudyRun run, Status status, String error, double finalEvalLoss, double[] evalSteps,
                        double[] evalLosses, double tokensPerSecond, RoutingMetrics routing, double seconds) {

    /** Where a run stands. */
    public enum Status { DONE, FAILED, NOT_RUN }

    /** A run's status file, written by {@link Study} when the run ends. */
    public static final String STATUS_FILE = "status.json";

    /** Reads the run's status file and metrics. */
    public static RunResult read(StudyRun run, Path runDir) throws IOException {
        Path statusFile = runDir.resolve(STATUS_FILE);
        if (!Files.isRegularFile(statusFile)) {
            return new RunResult(run, Status.NOT_RUN, null, Double.NaN, new double[0], new double[0], Double.NaN,
                    RoutingMetrics.ABSENT, Double.NaN);
        }
        JsonObject status = JsonParser.parseString(Files.readString(statusFile)).getAsJsonObject();
        double seconds = status.has("seconds") ? status.get("seconds").getAsDouble() : Double.NaN;
        if (!"done".equals(status.get("status").getAsString())) {
            String error = status.has("error") && !status.get("error").isJsonNull() ? status.get("error").getAsString()
                    : "unknown error";
            return new RunResult(run, Status.FAILED, error, Double.NaN, new double[0], new double[0], Double.NaN,
                    RoutingMetrics.ABSENT, seconds);
        }
        List<Map<String, Object>> lines = MetricsLog.read(runDir);
        List<Map<String, Object>> evals = lines.stream().filter(l -> l.get("eval_loss") instanceof Number).toList();
        double[] steps = new double[evals.size()];
        double[] losses = new double[evals.size()];
        for (int i = 0; i < evals.size(); i++) {
            steps[i] = ((Number) evals.get(i).get("step")).doubleValue();
            losses[i] = ((Number) evals.get(i).get("eval_loss")).doubleValue();
        }
        List<Double> throughput = lines.stream().filter(l -> l.get("tokens_per_s") instanceof Number)
                .map(l -> ((Number) l.get("tokens_per_s")).doubleValue()).toList();
        List<Double> steady = throughput.size() > 1 ? throughput.subList(1, throughput.size()) : throughput;
        double tokensPerSecond = steady.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return new RunResult(run, Status.DONE, null, losses.length == 0 ? Double.NaN : losses[losses.length - 1],
                steps, losses, tokensPerSecond, RoutingMetrics.last(lines), seconds);
    }
}
