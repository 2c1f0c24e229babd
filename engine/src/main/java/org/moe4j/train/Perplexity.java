package org.moe4j.train;

import java.util.Locale;

/** Perplexity, {@code exp(loss)}, printed so that a diverged model reads as such and not as a 36-digit number. */
public final class Perplexity {
    private Perplexity() {
    }

    /** Three decimals below a million, scientific notation above, {@code inf} and {@code nan} for those. */
    public static String format(double perplexity) {
        if (Double.isNaN(perplexity)) {
            return "nan";
        }
        if (Double.isInfinite(perplexity)) {
            return "inf";
        }
        return String.format(Locale.ROOT, perplexity < 1e6 ? "%.3f" : "%.3e", perplexity);
    }
}
