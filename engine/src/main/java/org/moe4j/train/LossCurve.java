package org.moe4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.moe4j.train.metrics.LinePlot;
import org.moe4j.train.metrics.MetricsLog;

/** Draws a run's train and eval loss, read back from its metrics, to {@code loss.png}. */
public final class LossCurve {
    private LossCurve() {
    }

    public static void save(RunDirectory run) throws IOException {
        List<Map<String, Object>> lines = MetricsLog.read(run.metrics());
        LinePlot plot = new LinePlot("Loss", "step", "cross-entropy (nats/token)");
        double[][] train = column(lines, "step", "loss");
        double[][] eval = column(lines, "step", "eval_loss");
        plot.add("train loss", train[0], train[1]);
        plot.add("eval loss", eval[0], eval[1]);
        plot.save(run.lossPlot());
    }

    /** The {@code (x, y)} pairs of the lines that have both keys. */
    private static double[][] column(List<Map<String, Object>> lines, String xKey, String yKey) {
        List<Map<String, Object>> having = lines.stream().filter(l -> l.get(xKey) instanceof Number
                && l.get(yKey) instanceof Number).toList();
        double[][] xy = new double[2][having.size()];
        for (int i = 0; i < having.size(); i++) {
            xy[0][i] = ((Number) having.get(i).get(xKey)).doubleValue();
            xy[1][i] = ((Number) having.get(i).get(yKey)).doubleValue();
        }
        return xy;
    }
}
