package org.moe4j.study;

import com.google.gson.JsonElement;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One configuration of a grid: a name and the fields it sets over the grid's base, by dotted
 * snake_case name ({@code model.width}, {@code model.moe.capacity_factor}), in order.
 *
 * @param name     unique within the grid; also part of the run directory names
 * @param settings field name to JSON value; copied and unmodifiable
 */
public record GridConfig(String name, Map<String, JsonElement> settings) {

    public GridConfig {
        Map<String, JsonElement> copy = new LinkedHashMap<>();
        settings.forEach((field, value) -> copy.put(field, value.deepCopy()));
        settings = Collections.unmodifiableMap(copy);
    }

    /** The settings as {@code field=value, ...} (strings without quotes), for tables and logs. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        settings.forEach((field, value) -> {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(field).append('=').append(StudyGrid.text(value));
        });
        return sb.toString();
    }
}
