package org.moe4j.study;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The routing columns of a study's table (drop rate, load coefficient of variation, router
 * entropy), read from a run's {@code metrics.jsonl}. This is the only class that knows where the
 * MoE layer puts its routing statistics in a metrics line; if the keys change, change
 * {@link #KEY} and the {@code *_KEYS} lists here and nothing else.
 *
 * <p>Expected form: {@code "moe"} holds the per-layer statistics, either a list of objects (one per
 * MoE layer) or an object of objects keyed by layer; a value is the mean over the layers that
 * report it. A line without them (a dense model) gives {@code NaN}, shown as {@value #ABSENT_TEXT}.
 *
 * @param dropRate      fraction of token-expert assignments dropped for lack of capacity, in [0, 1]
 * @param loadCv        coefficient of variation (std/mean) of the tokens per expert
 * @param routerEntropy mean entropy of the router's probabilities per token, in nats
 */
public record RoutingMetrics(double dropRate, double loadCv, double routerEntropy) {

    /** The key of the routing statistics in a metrics line. */
    static final String KEY = "moe";
    /** Accepted names of each statistic inside a layer's object, first match wins. */
    static final List<String> DROP_RATE_KEYS = List.of("drop_rate", "dropped_fraction");
    static final List<String> LOAD_CV_KEYS = List.of("load_cv", "cv");
    static final List<String> ROUTER_ENTROPY_KEYS = List.of("router_entropy", "entropy");

    /** How an absent statistic is shown in the table. */
    public static final String ABSENT_TEXT = "–";
    /** No routing statistics (a dense model). */
    public static final RoutingMetrics ABSENT = new RoutingMetrics(Double.NaN, Double.NaN, Double.NaN);

    /**
     * The routing statistics of one metrics line, averaged over layers; {@code NaN} for any that is
     * not there.
     *
     * @param line one record of {@code metrics.jsonl}; not modified
     */
    public static RoutingMetrics fromMetricsLine(Map<String, Object> line) {
        List<Map<?, ?>> layers = layers(line.get(KEY));
        return new RoutingMetrics(mean(layers, DROP_RATE_KEYS), mean(layers, LOAD_CV_KEYS),
                mean(layers, ROUTER_ENTROPY_KEYS));
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
        return Double.isFinite(dropRate) || Double.isFinite(loadCv) || Double.isFinite(routerEntropy);
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
        } else if (stats instanceof Map<?, ?> map) {
            boolean perLayer = !map.isEmpty() && map.values().stream().allMatch(v -> v instanceof Map<?, ?>);
            if (perLayer) {
                map.values().forEach(v -> layers.add((Map<?, ?>) v));
            } else {
                layers.add(map);
            }
        }
        return layers;
    }

    private static double mean(List<Map<?, ?>> layers, List<String> keys) {
        double sum = 0;
        int n = 0;
        for (Map<?, ?> layer : layers) {
            for (String key : keys) {
                if (layer.get(key) instanceof Number v && Double.isFinite(v.doubleValue())) {
                    sum += v.doubleValue();
                    n++;
                    break;
                }
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
