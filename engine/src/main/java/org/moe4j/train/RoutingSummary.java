package org.moe4j.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.moe4j.moe.RoutingStats;

/**
 * How a training step's routing statistics go into the metrics log and the progress line. The
 * metrics line gets {@code aux_loss} and {@code z_loss} (summed over MoE layers, unweighted) and
 * {@code moe}: one object per MoE layer ({@code block}, tokens per expert before and after capacity,
 * {@code max_mean_load}, {@code load_cv}, {@code drop_fraction}, {@code router_entropy}, its own
 * losses). The progress line gets the mean drop rate and load CV over layers.
 */
final class RoutingSummary {
    private RoutingSummary() {
    }

    /** Adds the routing keys to a metrics line; nothing for a dense model. */
    static void addTo(Map<String, Object> line, Map<Integer, RoutingStats> routing) {
        if (routing.isEmpty()) {
            return;
        }
        double aux = 0;
        double z = 0;
        List<Map<String, Object>> layers = new ArrayList<>();
        for (Map.Entry<Integer, RoutingStats> entry : routing.entrySet()) {
            RoutingStats stats = entry.getValue();
            aux += stats.auxLoss();
            z += stats.zLoss();
            Map<String, Object> layer = new LinkedHashMap<>();
            layer.put("block", entry.getKey());
            layer.putAll(stats.toMap());
            layers.add(layer);
        }
        line.put("aux_loss", aux);
        line.put("z_loss", z);
        line.put("moe", layers);
    }

    /**
     * {@code drop 3.1% cv 0.42}, means over the MoE layers ({@code dropless cv 0.42} when no layer
     * can drop); empty for a dense model.
     */
    static String shortForm(Map<Integer, RoutingStats> routing) {
        if (routing.isEmpty()) {
            return "";
        }
        double drop = 0;
        double cv = 0;
        boolean dropless = true;
        for (RoutingStats stats : routing.values()) {
            drop += stats.dropFraction();
            cv += stats.loadCv();
            dropless &= stats.dropless();
        }
        String drops = dropless ? "dropless" : String.format(Locale.ROOT, "drop %.1f%%", 100 * drop / routing.size());
        return String.format(Locale.ROOT, "%s cv %.2f", drops, cv / routing.size());
    }
}
