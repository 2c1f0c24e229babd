package org.moe4j.study;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The routing of current MoE models, as {@code moe study modern}: top-2, 2 top-1 prototyping, top-2
 * with a shared expert (DeepSeekMoE, Qwen-MoE), fine-grained top-4 with a shared expert, sigmoid
 * gating with bias balancing (DeepSeek-V3) and dropless top-2; two seeds each, the same model,
 * steps, batch and data in every run, and the training rules of {@link M6tPreset} (capacity
 * factor, load-balancing coefficient, combine weights not renormalised under softmax).
 *
 * <p>Equal active compute and equal expert parameters. The baseline is top-2 over
 * {@value #BASE_EXPERTS} experts of hidden width {@code H/2}. A token of a configuration with k
 * routed and s shared experts passes through k + s experts of width {@code h = H/(k+s)}, so every
 * token's expert FLOPs are those of a width-H MLP; and the configuration has
 * {@code E = (BASE_EXPERTS/2)·(k+s) − s} routed experts, so its routed and shared experts together
 * hold {@code (E+s)·h = BASE_EXPERTS·H/2} hidden units, as many as the baseline's. (Only the router,
 * E rows, and the experts' output biases, one per expert, differ.) H is divisible by 2, 3 and 5.
 */
public final class ModernPreset {
    /** The preset names {@code --preset} accepts. */
    public static final List<String> PRESETS = M6tPreset.PRESETS;
    public static final int BASE_EXPERTS = 8;

    /**
     * One configuration of the study.
     *
     * @param name   its name in the table
     * @param router {@code model.moe.router}
     * @param k      routed experts per token ({@code model.moe.k})
     * @param shared shared experts ({@code model.moe.shared_experts})
     * @param extra  the fields besides the shape that it sets
     */
    public record Variant(String name, String router, int k, int shared, Map<String, JsonElement> extra) {

        /** Routed experts per layer at equal expert parameters. */
        public int experts() {
            return BASE_EXPERTS / 2 * (k + shared) - shared;
        }

        /** Hidden width of each expert at equal active compute. */
        public int hidden(int budget) {
            return M6tPreset.expertHidden(budget, k + shared);
        }
    }

    /** The configurations, in table order. */
    public static final List<Variant> VARIANTS = List.of(
            new Variant("top2", "topk", 2, 0, Map.of()),
            new Variant("2top1", "prototype", 2, 0, Map.of()),
            new Variant("top2-shared", "topk", 2, 1, Map.of()),
            new Variant("fine-top4-shared", "topk", 4, 1, Map.of()),
            new Variant("sigmoid-bias", "topk", 2, 0, ordered(
                    "model.moe.gate", new JsonPrimitive("sigmoid"),
                    "model.moe.balance", new JsonPrimitive("bias"),
                    "model.moe.aux_loss_coef", new JsonPrimitive(0.0))),
            new Variant("dropless-top2", "topk", 2, 0, ordered(
                    "model.moe.capacity_factor", new JsonPrimitive(0.0),
                    "model.moe.eval_capacity_factor", new JsonPrimitive(0.0))));

    private ModernPreset() {
    }

    /**
     * The sizes of {@link M6tPreset}'s presets with H = 120 and 240 (divisible by 2, 3 and 5) for
     * 128 and 256; chosen for time on two cores, never for what the numbers say.
     */
    private static PresetSize size(String preset) {
        return switch (preset) {
            case "quick" -> new PresetSize(250, 8, 32, 2, 2, 32, 120, 50, 4, 10, 100_000);
            case "full" -> new PresetSize(500, 8, 64, 2, 4, 64, 240, 50, 16, 10, 400_000);
            default -> throw new IllegalArgumentException("preset '" + preset + "' is not known: allowed values are " + PRESETS);
        };
    }

    /** The grid of a preset ({@code quick} or {@code full}). */
    public static StudyGrid grid(String preset) {
        PresetSize size = size(preset);
        JsonObject moe = M6tPreset.moeBase("topk", BASE_EXPERTS, 2, size.hidden() / 2);
        List<GridConfig> configs = new ArrayList<>();
        for (Variant v : VARIANTS) {
            Map<String, JsonElement> set = new LinkedHashMap<>();
            set.put("model.moe.router", new JsonPrimitive(v.router()));
            set.put("model.moe.k", new JsonPrimitive(v.k()));
            set.put("model.moe.experts", new JsonPrimitive(v.experts()));
            set.put("model.moe.hidden", new JsonPrimitive(v.hidden(size.hidden())));
            set.put("model.moe.shared_experts", new JsonPrimitive(v.shared()));
            set.putAll(v.extra());
            configs.add(new GridConfig(v.name(), set));
        }
        return new StudyGrid("modern-" + preset, size.base(moe), configs, M6tPreset.SEEDS, List.of());
    }

    private static Map<String, JsonElement> ordered(Object... fieldsAndValues) {
        Map<String, JsonElement> map = new LinkedHashMap<>();
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            map.put((String) fieldsAndValues[i], (JsonElement) fieldsAndValues[i + 1]);
        }
        return map;
    }
}
