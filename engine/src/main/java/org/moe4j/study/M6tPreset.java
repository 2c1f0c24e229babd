package org.moe4j.study;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The routing grid of the M6-T paper ("Exploring Sparse Expert Models and Beyond", Yang et al.,
 * 2021), as {@code moe study m6t}: top-1 (Switch), top-2, 2 top-1 prototyping, top-4 and 4 top-1
 * prototyping; capacity factors 0.5, 1.0, 1.25 and 2.0 for top-2 and 2 top-1; every router with the
 * load-balancing loss switched off too; two seeds each. Every run has the same model, steps,
 * batch and data.
 *
 * <p>Equal active compute: a token passes through {@code k} experts, so every router's expert
 * hidden width is {@code HIDDEN / k} and {@code k · model.moe.hidden} is the same for all (total
 * expert parameters then shrink as {@code k} grows; the table shows both counts).
 *
 * <p>The {@code quick} preset is the same grid on a smaller model for fewer steps; {@code full} is
 * the one whose numbers are worth reading. Sizes are chosen for time on two cores, never for
 * agreement with the paper.
 */
public final class M6tPreset {
    /** The preset names {@code --preset} accepts. */
    public static final List<String> PRESETS = List.of("quick", "full");
    /** The capacity factors of the sweep; {@link #CAPACITY_FACTOR} is the one every other run uses. */
    public static final List<Double> CAPACITY_FACTORS = List.of(0.5, 1.0, 1.25, 2.0);
    public static final double CAPACITY_FACTOR = 1.25;
    /** Capacity factor in evaluation: generous, so that eval loss measures the model, not eval drops. */
    public static final double EVAL_CAPACITY_FACTOR = 2.0;
    public static final double AUX_LOSS_COEF = 0.01;
    public static final int EXPERTS = 8;
    /** Expert type of every run: the built-in GELU FFN. */
    public static final String EXPERT = "gelu";
    /**
     * Top-k combine weights are the router probabilities, not renormalised over the kept experts:
     * the same rule as Switch (where renormalising would make every weight 1 and stop the router's
     * gradient) and as prototyping (which has no renormalisation), so routers differ only in routing.
     */
    public static final boolean RENORMALIZE = false;
    public static final List<Long> SEEDS = List.of(1L, 2L);

    /**
     * A router of the grid.
     *
     * @param name   prefix of its run names
     * @param router {@code model.moe.router}
     * @param k      experts per token ({@code model.moe.k}); prototypes for {@code prototype}
     */
    public record Router(String name, String router, int k) {
    }

    /** The routers, in table order. */
    public static final List<Router> ROUTERS = List.of(new Router("top1", "switch", 1), new Router("top2", "topk", 2),
            new Router("2top1", "prototype", 2), new Router("top4", "topk", 4), new Router("4top1", "prototype", 4));
    /** The routers whose capacity factor is swept. */
    public static final List<String> CAPACITY_SWEEP = List.of("top2", "2top1");

    private M6tPreset() {
    }

    /**
     * Sized for time on two cores: on a busy two-core machine {@code quick} took 3.5 minutes for its
     * 32 runs and {@code full} 24 minutes (docs/study-results.md). Chosen for time only, never for
     * what the numbers say.
     */
    private static PresetSize size(String preset) {
        return switch (preset) {
            case "quick" -> new PresetSize(250, 8, 32, 2, 2, 32, 128, 50, 4, 10, 100_000);
            case "full" -> new PresetSize(500, 8, 64, 2, 4, 64, 256, 50, 16, 10, 400_000);
            default -> throw new IllegalArgumentException("preset '" + preset + "' is not known: allowed values are " + PRESETS);
        };
    }

    /**
     * Expert hidden width for {@code k} experts per token at equal active compute:
     * {@code k · expertHidden(H, k) = H}.
     *
     * @throws IllegalArgumentException if {@code k} does not divide {@code hidden}
     */
    public static int expertHidden(int hidden, int k) {
        if (k < 1 || hidden % k != 0) {
            throw new IllegalArgumentException("k=" + k + " must divide the expert hidden budget " + hidden);
        }
        return hidden / k;
    }

    /** The grid of a preset ({@code quick} or {@code full}). */
    public static StudyGrid grid(String preset) {
        PresetSize size = size(preset);
        JsonObject moe = moeBase("topk", EXPERTS, 1, size.hidden());
        JsonObject base = size.base(moe);

        List<GridConfig> configs = new ArrayList<>();
        for (Router r : ROUTERS) {
            if (CAPACITY_SWEEP.contains(r.name())) {
                for (double cf : CAPACITY_FACTORS) {
                    configs.add(config(r.name() + "-cf" + cf, r, size, cf, AUX_LOSS_COEF));
                }
            } else {
                configs.add(config(r.name(), r, size, CAPACITY_FACTOR, AUX_LOSS_COEF));
            }
            configs.add(config(r.name() + "-noaux", r, size, CAPACITY_FACTOR, 0.0));
        }
        return new StudyGrid("m6t-" + preset, base, configs, SEEDS, List.of("model.moe.capacity_factor"));
    }

    /**
     * The MoE fields of a run before its own settings: the training rules of this study (capacity
     * factors, load-balancing coefficient, no z-loss or jitter, combine weights not renormalised,
     * GELU experts, an MoE layer in every block), which {@link ModernPreset} shares.
     */
    static JsonObject moeBase(String router, int experts, int k, int hidden) {
        JsonObject moe = new JsonObject();
        moe.addProperty("router", router);
        moe.addProperty("experts", experts);
        moe.addProperty("k", k);
        moe.addProperty("capacity_factor", CAPACITY_FACTOR);
        moe.addProperty("eval_capacity_factor", EVAL_CAPACITY_FACTOR);
        moe.addProperty("aux_loss_coef", AUX_LOSS_COEF);
        moe.addProperty("z_loss_coef", 0.0);
        moe.addProperty("jitter", 0.0);
        moe.addProperty("renormalize", RENORMALIZE);
        moe.addProperty("expert", EXPERT);
        moe.addProperty("hidden", hidden);
        moe.addProperty("every", 1);
        return moe;
    }

    private static GridConfig config(String name, Router r, PresetSize size, double capacityFactor, double auxLossCoef) {
        Map<String, JsonElement> set = new LinkedHashMap<>();
        set.put("model.moe.router", new JsonPrimitive(r.router()));
        set.put("model.moe.k", new JsonPrimitive(r.k()));
        set.put("model.moe.hidden", new JsonPrimitive(expertHidden(size.hidden(), r.k())));
        set.put("model.moe.capacity_factor", new JsonPrimitive(capacityFactor));
        set.put("model.moe.aux_loss_coef", new JsonPrimitive(auxLossCoef));
        return new GridConfig(name, set);
    }
}
