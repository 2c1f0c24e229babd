package org.moe4j.study;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.TrainConfig;

/**
 * A study's grid: a base config, the configurations that vary it, and the seeds every
 * configuration is trained with. Its JSON form (see {@code docs/study.md}):
 *
 * <pre>{@code
 * {
 *   "name": "lr-width",
 *   "base": {"steps": 200, "model": {"layers": 2}},
 *   "runs": [{"name": "small", "set": {"model.width": 64}}, {"name": "big", "set": {"model.width": 128}}],
 *   "vary": {"learning_rate": [0.001, 0.003]},
 *   "seeds": [1, 2],
 *   "plot_loss_against": ["learning_rate"]
 * }
 * }</pre>
 *
 * <p>Configurations are every {@code runs} entry combined with every combination of the {@code vary}
 * values (either may be left out, not both); a combination is named {@code field=value,...} after
 * the run's name. Every configuration is trained once per seed. Structure errors (unknown key,
 * empty grid, duplicate names, a seed set by a run) are refused here; field names and values are
 * checked by {@link ConfigLoader} when {@link #config} builds a run's config.
 *
 * @param name            the study's name; the default study directory is {@code studies/<name>}
 * @param base            config fields shared by every run, nested as in a config file; not modified
 * @param configs         the configurations, in table order
 * @param seeds           training seeds, each configuration runs once per seed
 * @param plotLossAgainst fields to plot final eval loss against; empty means every numeric field
 *                        that takes at least two values in the grid
 */
public record StudyGrid(String name, JsonObject base, List<GridConfig> configs, List<Long> seeds,
                        List<String> plotLossAgainst) {

    /** Names that are safe as directory names on every file system. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._=,+-]{0,119}");
    private static final List<String> KEYS = List.of("name", "base", "runs", "vary", "seeds", "plot_loss_against");
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    public StudyGrid {
        checkName("grid name", name);
        base = base.deepCopy();
        configs = List.copyOf(configs);
        seeds = List.copyOf(seeds);
        plotLossAgainst = List.copyOf(plotLossAgainst);
        if (configs.isEmpty()) {
            throw new IllegalArgumentException("grid '" + name + "' has no runs: give \"runs\" or \"vary\"");
        }
        Set<String> names = new HashSet<>();
        for (GridConfig config : configs) {
            checkName("run name", config.name());
            if (!names.add(config.name())) {
                throw new IllegalArgumentException("grid '" + name + "': duplicate run name '" + config.name() + "'");
            }
            if (config.settings().containsKey("seed")) {
                throw new IllegalArgumentException("grid '" + name + "', run '" + config.name()
                        + "': set seeds with \"seeds\", not \"seed\"");
            }
        }
        if (base.has("seed")) {
            throw new IllegalArgumentException("grid '" + name + "': set seeds with \"seeds\", not base \"seed\"");
        }
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("grid '" + name + "': \"seeds\" is empty");
        }
        if (new HashSet<>(seeds).size() != seeds.size()) {
            throw new IllegalArgumentException("grid '" + name + "': \"seeds\" has a duplicate: " + seeds);
        }
    }

    /** Reads a grid file. */
    public static StudyGrid read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read grid file " + file + ": " + e.getMessage(), e);
        }
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("grid file " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!parsed.isJsonObject()) {
            throw new IllegalArgumentException("grid file " + file + " must hold a JSON object");
        }
        return parse(parsed.getAsJsonObject(), file.toString());
    }

    /**
     * A grid from its JSON form.
     *
     * @param json   not modified
     * @param source where it came from, for error messages
     */
    public static StudyGrid parse(JsonObject json, String source) {
        for (String key : json.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("grid " + source + ": unknown key '" + key + "': allowed keys are " + KEYS);
            }
        }
        String name = string(json.get("name"), "grid " + source + ": \"name\"");
        JsonObject base = json.has("base") ? object(json.get("base"), "grid " + source + ": \"base\"") : new JsonObject();

        List<GridConfig> runs = new ArrayList<>();
        if (json.has("runs")) {
            JsonArray array = array(json.get("runs"), "grid " + source + ": \"runs\"");
            if (array.isEmpty()) {
                throw new IllegalArgumentException("grid " + source + ": \"runs\" is empty");
            }
            for (int i = 0; i < array.size(); i++) {
                String where = "grid " + source + ": runs[" + i + "]";
                JsonObject run = object(array.get(i), where);
                for (String key : run.keySet()) {
                    if (!key.equals("name") && !key.equals("set")) {
                        throw new IllegalArgumentException(where + ": unknown key '" + key + "': allowed keys are [name, set]");
                    }
                }
                String runName = string(run.get("name"), where + ".name");
                Map<String, JsonElement> set = new LinkedHashMap<>();
                if (run.has("set")) {
                    object(run.get("set"), where + ".set").entrySet().forEach(e -> set.put(e.getKey(), e.getValue()));
                }
                runs.add(new GridConfig(runName, set));
            }
        }

        List<GridConfig> combinations = new ArrayList<>();
        combinations.add(new GridConfig("", Map.of()));
        if (json.has("vary")) {
            JsonObject vary = object(json.get("vary"), "grid " + source + ": \"vary\"");
            if (vary.isEmpty()) {
                throw new IllegalArgumentException("grid " + source + ": \"vary\" is empty");
            }
            for (Map.Entry<String, JsonElement> field : vary.entrySet()) {
                JsonArray values = array(field.getValue(), "grid " + source + ": vary." + field.getKey());
                if (values.isEmpty()) {
                    throw new IllegalArgumentException("grid " + source + ": vary." + field.getKey() + " has no values");
                }
                List<GridConfig> next = new ArrayList<>();
                for (GridConfig c : combinations) {
                    for (JsonElement value : values) {
                        Map<String, JsonElement> set = new LinkedHashMap<>(c.settings());
                        set.put(field.getKey(), value);
                        String part = field.getKey() + "=" + safe(text(value));
                        next.add(new GridConfig(c.name().isEmpty() ? part : c.name() + "," + part, set));
                    }
                }
                combinations = next;
            }
        }

        List<GridConfig> configs = new ArrayList<>();
        if (runs.isEmpty()) {
            if (json.has("vary")) {
                configs.addAll(combinations);
            }
        } else {
            for (GridConfig run : runs) {
                for (GridConfig c : combinations) {
                    Map<String, JsonElement> set = new LinkedHashMap<>(run.settings());
                    for (Map.Entry<String, JsonElement> e : c.settings().entrySet()) {
                        if (set.containsKey(e.getKey())) {
                            throw new IllegalArgumentException("grid " + source + ": run '" + run.name() + "' sets "
                                    + e.getKey() + ", which \"vary\" also varies");
                        }
                        set.put(e.getKey(), e.getValue());
                    }
                    configs.add(new GridConfig(c.name().isEmpty() ? run.name() : run.name() + "," + c.name(), set));
                }
            }
        }

        List<Long> seeds = new ArrayList<>();
        if (json.has("seeds")) {
            for (JsonElement seed : array(json.get("seeds"), "grid " + source + ": \"seeds\"")) {
                if (!seed.isJsonPrimitive() || !seed.getAsJsonPrimitive().isNumber()
                        || seed.getAsDouble() != Math.rint(seed.getAsDouble())) {
                    throw new IllegalArgumentException("grid " + source + ": seed " + seed + " is not an integer");
                }
                seeds.add(seed.getAsLong());
            }
        } else {
            seeds.add(TrainConfig.DEFAULT.seed());
        }

        List<String> plotAgainst = new ArrayList<>();
        if (json.has("plot_loss_against")) {
            for (JsonElement field : array(json.get("plot_loss_against"), "grid " + source + ": \"plot_loss_against\"")) {
                plotAgainst.add(string(field, "grid " + source + ": plot_loss_against entry"));
            }
        }
        return new StudyGrid(name, base, configs, seeds, plotAgainst);
    }

    /** Every configuration with every seed, configuration by configuration. */
    public List<StudyRun> runs() {
        List<StudyRun> runs = new ArrayList<>();
        for (GridConfig config : configs) {
            for (long seed : seeds) {
                runs.add(new StudyRun(config, seed));
            }
        }
        return runs;
    }

    /**
     * The training config of {@code config} with {@code seed}: the defaults, then the base, then
     * the configuration's settings. An unknown field or a bad value fails with the run's name and
     * {@link ConfigLoader}'s message.
     */
    public TrainConfig config(GridConfig config, long seed) {
        try {
            ConfigLoader loader = new ConfigLoader(TrainConfig.DEFAULT).merge(base);
            config.settings().forEach(loader::set);
            return loader.set("seed", Long.toString(seed)).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("grid '" + name + "', run '" + config.name() + "': " + e.getMessage(), e);
        }
    }

    /** The grid in its JSON form with the configurations listed one by one (it parses back to this grid). */
    public JsonObject toJson() {
        JsonObject json = new JsonObject();
        json.addProperty("name", name);
        json.add("base", base.deepCopy());
        JsonArray runs = new JsonArray();
        for (GridConfig config : configs) {
            JsonObject run = new JsonObject();
            run.addProperty("name", config.name());
            JsonObject set = new JsonObject();
            config.settings().forEach((field, value) -> set.add(field, value.deepCopy()));
            run.add("set", set);
            runs.add(run);
        }
        json.add("runs", runs);
        JsonArray seedArray = new JsonArray();
        seeds.forEach(seedArray::add);
        json.add("seeds", seedArray);
        JsonArray plot = new JsonArray();
        plotLossAgainst.forEach(plot::add);
        json.add("plot_loss_against", plot);
        return json;
    }

    /** {@link #toJson} as indented text. */
    public String toJsonText() {
        return GSON.toJson(toJson());
    }

    /** A JSON value as text: strings without their quotes, numbers as written. */
    static String text(JsonElement value) {
        return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString() ? value.getAsString() : value.toString();
    }

    private static String safe(String text) {
        return text.replaceAll("[^A-Za-z0-9._+-]", "_");
    }

    private static void checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name + "' is not allowed: use letters, digits and . _ = , + -"
                    + " (starting with a letter or digit, at most 120 characters)");
        }
    }

    private static String string(JsonElement e, String what) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(what + " must be a string, got " + e);
        }
        return e.getAsString();
    }

    private static JsonObject object(JsonElement e, String what) {
        if (e == null || !e.isJsonObject()) {
            throw new IllegalArgumentException(what + " must be a JSON object, got " + e);
        }
        return e.getAsJsonObject();
    }

    private static JsonArray array(JsonElement e, String what) {
        if (e == null || !e.isJsonArray()) {
            throw new IllegalArgumentException(what + " must be a JSON array, got " + e);
        }
        return e.getAsJsonArray();
    }
}
