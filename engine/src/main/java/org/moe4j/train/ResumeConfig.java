package org.moe4j.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a resumed run may change of the run that wrote its checkpoint. More {@code steps} extend
 * the run: it trains on to the new last step, and from the resumed step on the learning rate
 * follows the schedule of a run of the new length (warm-up, then the cosine decay spread to the new
 * end). The device, how often to log, evaluate and checkpoint, and activation recomputation (which
 * changes no result) may change too, and so may the parallel layout (another {@code parallel.ep},
 * sharded optimizer state or not, another all-to-all payload): a sharded checkpoint resumes on any
 * valid layout. Everything else
 * (the model, the data, the optimizer, the batch, the seed) is the checkpoint's: giving another value
 * is refused with the field's name, because a silently ignored option is a lie.
 */
public final class ResumeConfig {
    /** Fields that may differ from the checkpoint's config. */
    public static final Set<String> CHANGEABLE = Set.of("steps", "device", "log_every", "eval_every", "eval_batches",
            "checkpoint_every", "recompute", "parallel.ep", "parallel.shard_optimizer", "parallel.comm_dtype");

    private ResumeConfig() {
    }

    /**
     * Checks that {@code requested} differs from {@code saved} in {@link #CHANGEABLE} fields only.
     *
     * @throws IllegalArgumentException naming every other field that differs, with both values
     */
    public static void check(TrainConfig saved, TrainConfig requested) {
        Map<String, JsonElement> before = flatten(ConfigLoader.toJson(saved));
        Map<String, JsonElement> after = flatten(ConfigLoader.toJson(requested));
        List<String> refused = new ArrayList<>();
        for (String field : union(before, after)) {
            JsonElement was = before.get(field);
            JsonElement is = after.get(field);
            if (!CHANGEABLE.contains(field) && !(was == null ? is == null : was.equals(is))) {
                refused.add(field + "=" + is + " (the checkpoint's run has " + field + "=" + was + ")");
            }
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("cannot change " + String.join(", ", refused) + " when resuming: only "
                    + CHANGEABLE.stream().sorted().toList() + " may change; start a new run to train another"
                    + " configuration");
        }
    }

    private static List<String> union(Map<String, JsonElement> a, Map<String, JsonElement> b) {
        List<String> keys = new ArrayList<>(a.keySet());
        b.keySet().stream().filter(k -> !a.containsKey(k)).forEach(keys::add);
        return keys;
    }

    /** Every leaf of a config's JSON under its dotted name. */
    private static Map<String, JsonElement> flatten(String json) {
        Map<String, JsonElement> leaves = new LinkedHashMap<>();
        flatten(JsonParser.parseString(json).getAsJsonObject(), "", leaves);
        return leaves;
    }

    private static void flatten(JsonObject object, String prefix, Map<String, JsonElement> into) {
        object.entrySet().forEach(e -> {
            if (e.getValue().isJsonObject()) {
                flatten(e.getValue().getAsJsonObject(), prefix + e.getKey() + ".", into);
            } else {
                into.put(prefix + e.getKey(), e.getValue());
            }
        });
    }
}
