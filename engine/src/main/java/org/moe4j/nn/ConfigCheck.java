package org.moe4j.nn;

/** Range checks for configuration fields: every message names the field, the value and what is allowed. */
public final class ConfigCheck {
    private ConfigCheck() {
    }

    public static void atLeast(String field, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(field + "=" + value + " is out of range: must be >= " + min);
        }
    }

    public static void inRange(String field, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException(field + "=" + value + " is out of range: must be in [" + min + ", " + max + "]");
        }
    }

    public static void positive(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(field + "=" + value + " is out of range: must be a finite number > 0");
        }
    }
}
