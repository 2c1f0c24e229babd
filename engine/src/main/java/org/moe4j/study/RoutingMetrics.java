package org.moe4j.study;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The routing columns of a study's table (drop rate, load coefficient of variation, router
 * entropy, slot use), read from a run's {@code metrics.jsonl}. This is the only class of the study that
 * knows where the MoE layer's routing statistics are in a metrics line.
 *
 * <p>The trainer writes them ({@code org.moe4j.train.RoutingSummary}) as {@value #KEY}: a list with
 * one object per MoE layer, that layer's {@link org.moe4j.moe.RoutingStats#toMap()} plus its
 * {@code block}; the keys read here are {@value #DROP_RATE}, {@value #LOAD_CV},
 * {@value #ROUTER_ENTROPY} and {@value #SLOT_USE}, of the training step the line was logged at. A column is the mean over
 * the layers. A line without them (a dense model) gives {@code NaN}, shown as {@value #ABSENT_TEXT}.
 *
 * @param dropRate      fraction of token-expert assignments dropped for lack of capacity, in [0, 1]
 * @param loadCv        coefficient of variation (std/mean) of the tokens routed to each expert
 * @param routerEntropy mean entropy of the router's probabilities per token, in nats
 * @param slotUse       kept assignments over the slots allocated (experts × capacity), in [0, 1]:
 *                      1 − the padding the experts compute
 */
public record RoutingMetrics(double dropRate, double loadCv, double routerEntropy, double slotUse) {

    /** The key of the per-layer routing statistics in a metrics line. */
    static final String KEY = "moe";
    /** Keys of the statistics inside a layer's object, as {@link org.moe4j.moe.RoutingStats#toMap()} writes them. */
    static final String DROP_RATE = "drop_fraction";
    static final String LOAD_CV = "load_cv";
    static final String ROUTER_ENTROPY = "router_entropy";
    static final String SLOT_USE = "slot_use";

    /** How an absent statistic is shown in the table. */
    public static final String ABSENT_TEXT = "–";
    /** No routing statistics (a dense model). */
    public static final RoutingMetrics ABSENT = new RoutingMetrics(Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /**
     * The routing statistics of one metrics line, averaged over layers; {@code NaN} for any that is
     * not there.
     *
     * @param line one record of {@code metrics.jsonl}; not modified
     */
    public static RoutingMetrics fromMetricsLine(Map<String, Object> line) {
        List<Map<?, ?>> layers = layers(line.get(KEY));
        return new RoutingMetrics(mean(layers, DROP_RATE), mean(layers, LOAD_CV), mean(layers, ROUTER_ENTROPY),
                mean(layers, SLOT_USE));
    }

    /** The statistics of the last line of a run that has any ({@link #ABSENT} if none has). */
    public static RoutingMetrics last(List<Map<String, Object>> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            RoutingMetrics m = fromMetricsLine(lines.get(i));
            if (m.present()) {
                return m;
            }
        }
        return ABSENT;
    }

    /** Whether any statistic is there. */
    public boolean present() {
        return Double.isFinite(dropRate) || Double.isFinite(loadCv) || Double.isFinite(routerEntropy)
                || Double.isFinite(slotUse);
    }

    /** {@code value} with {@code decimals} decimals, or {@value #ABSENT_TEXT} when it is not a number. */
    public static String format(double value, int decimals) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%." + decimals + "f", value) : ABSENT_TEXT;
    }

    private static List<Map<?, ?>> layers(Object stats) {
        List<Map<?, ?>> layers = new ArrayList<>();
        if (stats instanceof List<?> list) {
            list.forEach(item -> {
                if (item instanceof Map<?, ?> m) {
                    layers.add(m);
                }
            });
        }
        return layers;
    }

    private static double mean(List<Map<?, ?>> layers, String key) {
        double sum = 0;
        int n = 0;
        for (Map<?, ?> layer : layers) {
            if (layer.get(key) instanceof Number v && Double.isFinite(v.doubleValue())) {
                sum += v.doubleValue();
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
