package org.moe4j.train;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import org.moe4j.moe.MoeConfig;

/**
 * Builds a {@link TrainConfig} from the defaults, a JSON file and {@code field=value} overrides, in
 * that order. Field names are the snake_case record component names, nested with a dot on the
 * command line ({@code model.width=256}) and as objects in JSON. An unknown field or a value of
 * the wrong type is an error that names the field and what is allowed.
 *
 * <p>The MoE settings live in {@code model.moe}; {@code moe.*} is accepted as a short form of
 * {@code model.moe.*} (on the command line and as a top-level {@code "moe"} object in a file).
 * {@code model.moe} may be set to null for a dense model; setting one of its fields when it is
 * null starts again from {@link MoeConfig#DEFAULT}. A complete config read back with
 * {@link #fromJson} that has no {@code model.moe} describes a dense model.
 */
public final class ConfigLoader {
    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .serializeNulls()
            .setPrettyPrinting()
            .create();

    /** Nested objects that may be null, and what they start from when a field of theirs is set. */
    private static final Map<String, MoeConfig> NULLABLE = Map.of("model.moe", MoeConfig.DEFAULT);
    private static final String MOE_ALIAS = "moe";

    private final JsonObject tree;

    /** Starts from {@code base} (usually {@link TrainConfig#DEFAULT}). */
    public ConfigLoader(TrainConfig base) {
        this.tree = GSON.toJsonTree(base).getAsJsonObject();
    }

    /** Merges a JSON config file over what is there. */
    public ConfigLoader file(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + path + ": " + e.getMessage(), e);
        }
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("config file " + path + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!parsed.isJsonObject()) {
            throw new IllegalArgumentException("config file " + path + " must hold a JSON object");
        }
        merge(tree, parsed.getAsJsonObject(), "");
        return this;
    }

    /**
     * Merges a JSON object over what is there, with the same checks as a file.
     *
     * @param object not modified
     */
    public ConfigLoader merge(JsonObject object) {
        merge(tree, object.deepCopy(), "");
        return this;
    }

    /** Sets one field, {@code name} in dotted snake_case, from its text form. */
    public ConfigLoader set(String name, String value) {
        return set(name, value == null ? JsonNull.INSTANCE : JsonParser.parseString(quoteIfText(value)));
    }

    /**
     * Sets one field, {@code name} in dotted snake_case, to a JSON value (a number, string, boolean,
     * null or object), checked like a value from a file.
     *
     * @param value not modified
     */
    public ConfigLoader set(String name, JsonElement value) {
        if (name.equals(MOE_ALIAS) || name.startsWith(MOE_ALIAS + ".")) {
            name = "model." + name;
        }
        String[] path = name.split("\\.");
        JsonObject node = tree;
        for (int i = 0; i < path.length - 1; i++) {
            JsonElement child = node.get(path[i]);
            if (child != null && child.isJsonNull()) {
                child = defaultsOf(String.join(".", java.util.Arrays.copyOf(path, i + 1)));
                if (child != null) {
                    node.add(path[i], child);
                }
            }
            if (child == null || !child.isJsonObject()) {
                throw unknown(name, node, "");
            }
            node = child.getAsJsonObject();
        }
        String leaf = path[path.length - 1];
        if (!node.has(leaf)) {
            throw unknown(name, node, name.contains(".") ? name.substring(0, name.lastIndexOf('.') + 1) : "");
        }
        node.add(leaf, checkType(name, node.get(leaf), value.deepCopy()));
        return this;
    }

    /** The configuration; validation errors name the field and its allowed range. */
    public TrainConfig build() {
        try {
            return GSON.fromJson(tree, TrainConfig.class);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("invalid config value: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // Gson wraps what a record's constructor throws; the validation message is the cause's.
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof IllegalArgumentException invalid) {
                    throw invalid;
                }
            }
            throw e;
        }
    }

    /** The JSON form of a config, as written to a run directory and a checkpoint. */
    public static String toJson(TrainConfig config) {
        return GSON.toJson(config);
    }

    /** Reads a complete config written by {@link #toJson}; one without {@code model.moe} is dense. */
    public static TrainConfig fromJson(String json) {
        JsonObject parsed = JsonParser.parseString(json).getAsJsonObject();
        JsonElement model = parsed.get("model");
        if (model != null && model.isJsonObject() && !model.getAsJsonObject().has(MOE_ALIAS)) {
            model.getAsJsonObject().add(MOE_ALIAS, JsonNull.INSTANCE);
        }
        ConfigLoader loader = new ConfigLoader(TrainConfig.DEFAULT);
        merge(loader.tree, parsed, "");
        return loader.build();
    }

    private static void merge(JsonObject into, JsonObject from, String prefix) {
        for (Map.Entry<String, JsonElement> entry : from.entrySet()) {
            String key = entry.getKey();
            if (prefix.isEmpty() && key.equals(MOE_ALIAS) && !into.has(key)) {
                JsonObject model = new JsonObject();
                model.add(MOE_ALIAS, entry.getValue());
                merge(into, wrap("model", model), prefix);
                continue;
            }
            if (!into.has(key)) {
                throw unknown(prefix + key, into, prefix);
            }
            JsonElement existing = into.get(key);
            if (existing.isJsonNull() && entry.getValue().isJsonObject() && defaultsOf(prefix + key) != null) {
                existing = defaultsOf(prefix + key);
                into.add(key, existing);
            }
            if (existing.isJsonObject() && entry.getValue().isJsonObject()) {
                merge(existing.getAsJsonObject(), entry.getValue().getAsJsonObject(), prefix + key + ".");
            } else {
                into.add(key, checkType(prefix + key, existing, entry.getValue()));
            }
        }
    }

    private static JsonObject wrap(String key, JsonElement value) {
        JsonObject object = new JsonObject();
        object.add(key, value);
        return object;
    }

    /** The JSON tree a null nested object at {@code path} starts from, or null if it is not one. */
    private static JsonObject defaultsOf(String path) {
        MoeConfig defaults = NULLABLE.get(path);
        return defaults == null ? null : GSON.toJsonTree(defaults).getAsJsonObject();
    }

    /**
     * A value must have the JSON kind of the field it replaces: a number for a number, and so on; a
     * nested object that may be null may be set to null.
     */
    private static JsonElement checkType(String name, JsonElement existing, JsonElement value) {
        if (value.isJsonNull() && NULLABLE.containsKey(name)) {
            return value;
        }
        boolean wantNumber = existing.isJsonPrimitive() && existing.getAsJsonPrimitive().isNumber();
        boolean wantBoolean = existing.isJsonPrimitive() && existing.getAsJsonPrimitive().isBoolean();
        boolean wantObject = existing.isJsonObject();
        boolean isNumber = value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber();
        boolean isBoolean = value.isJsonPrimitive() && value.getAsJsonPrimitive().isBoolean();
        String allowed = wantNumber ? "a number" : wantBoolean ? "true or false" : wantObject ? "an object" : null;
        if (allowed != null && (wantNumber != isNumber || wantBoolean != isBoolean || wantObject != value.isJsonObject())) {
            throw new IllegalArgumentException(name + "=" + value + " is not allowed: must be " + allowed);
        }
        if (isNumber) {
            checkWholeNumber(name, value.getAsBigDecimal());
        }
        return value;
    }

    /**
     * An {@code int} or {@code long} field takes a whole number in its range: Gson would otherwise
     * truncate 2.5 to 2 and wrap 1e10 around.
     */
    private static void checkWholeNumber(String name, BigDecimal value) {
        Class<?> type = fieldType(name);
        if (type != int.class && type != long.class) {
            return;
        }
        long min = type == int.class ? Integer.MIN_VALUE : Long.MIN_VALUE;
        long max = type == int.class ? Integer.MAX_VALUE : Long.MAX_VALUE;
        if (value.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException(name + "=" + value.toPlainString() + " is not allowed: must be a whole number");
        }
        if (value.compareTo(BigDecimal.valueOf(min)) < 0 || value.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw new IllegalArgumentException(name + "=" + value.toPlainString() + " is out of range: must be in ["
                    + min + ", " + max + "]");
        }
    }

    /** The Java type of the config field {@code name} (dotted snake_case), or null if there is none. */
    private static Class<?> fieldType(String name) {
        Class<?> type = TrainConfig.class;
        for (String part : name.split("\\.")) {
            Class<?> found = null;
            for (RecordComponent component : type.isRecord() ? type.getRecordComponents() : new RecordComponent[0]) {
                if (snakeCase(component.getName()).equals(part)) {
                    found = component.getType();
                }
            }
            if (found == null) {
                return null;
            }
            type = found;
        }
        return type;
    }

    /** Gson's {@code LOWER_CASE_WITH_UNDERSCORES} name of a record component. */
    private static String snakeCase(String camelCase) {
        return camelCase.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
    }

    private static IllegalArgumentException unknown(String name, JsonObject scope, String prefix) {
        TreeSet<String> known = new TreeSet<>();
        scope.keySet().forEach(k -> known.add(prefix + k));
        return new IllegalArgumentException("unknown config field '" + name + "': known fields are " + known);
    }

    /** Numbers, booleans and null stay as they are; anything else becomes a JSON string. */
    private static String quoteIfText(String value) {
        String trimmed = value.trim();
        if (trimmed.equals("null") || trimmed.equals("true") || trimmed.equals("false")
                || trimmed.matches("-?\\d+(\\.\\d*)?([eE][-+]?\\d+)?")) {
            return trimmed;
        }
        return GSON.toJson(value);
    }
}
