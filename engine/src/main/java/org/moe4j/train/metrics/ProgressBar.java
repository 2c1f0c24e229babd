package org.moe4j.train.metrics;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The training progress line
 * {@code step 120/300 [=====>    ] loss 2.134 lr 3.0e-4 1.2k tok/s eta 1m20s}. On a terminal the
 * line is redrawn in place with {@code \r}; into a file or pipe (CI logs, {@code nohup}) each
 * update is its own line, since carriage returns there make one unreadable line.
 *
 * <p>The eta extrapolates the average time per step measured from the first update on, so the
 * time before it (data loading, model set-up) does not inflate the estimate.
 */
public final class ProgressBar {

    private static final int BAR_WIDTH = 20;

    private final PrintStream out;
    private final long totalSteps;
    private final boolean inPlace;
    private final LongSupplier nanoTime;
    private long firstStep = -1;
    private long firstNanos;
    private int lastLength;

    /**
     * A bar that redraws in place when {@code out} is {@code System.out} and that is a terminal.
     */
    public ProgressBar(PrintStream out, long totalSteps) {
        this(out, totalSteps, out == System.out && System.console() != null && System.console().isTerminal(),
                System::nanoTime);
    }

    /**
     * @param inPlace  redraw one line with {@code \r} rather than print one line per update
     * @param nanoTime the clock, replaceable in tests
     */
    public ProgressBar(PrintStream out, long totalSteps, boolean inPlace, LongSupplier nanoTime) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be positive, got " + totalSteps);
        }
        this.out = out;
        this.totalSteps = totalSteps;
        this.inPlace = inPlace;
        this.nanoTime = nanoTime;
    }

    /** Shows progress after {@code step} (1-based) of the total; NaN values are shown as {@code -}. */
    public void update(long step, double loss, double lr, double tokensPerSecond) {
        update(step, loss, lr, tokensPerSecond, "");
    }

    /** As {@link #update(long, double, double, double)}, with {@code extra} (routing, say) after the loss. */
    public void update(long step, double loss, double lr, double tokensPerSecond, String extra) {
        long now = nanoTime.getAsLong();
        if (firstStep < 0) {
            firstStep = step;
            firstNanos = now;
        }
        double eta = step > firstStep
                ? (now - firstNanos) / 1e9 / (step - firstStep) * (totalSteps - step)
                : Double.NaN;
        String line = line(step, totalSteps, loss, lr, tokensPerSecond, eta, extra);
        if (inPlace) {
            // Pad over the rest of a longer previous line.
            out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
            lastLength = line.length();
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Whether the bar redraws one line; if not, every update prints a line of its own. */
    public boolean inPlace() {
        return inPlace;
    }

    /** Ends an in-place line so later output starts on a fresh line. */
    public void finish() {
        if (inPlace && lastLength > 0) {
            out.println();
            lastLength = 0;
        }
    }

    /** The whole progress line for these values; {@code etaSeconds} NaN shows {@code ?}. */
    public static String line(long step, long totalSteps, double loss, double lr, double tokensPerSecond,
            double etaSeconds) {
        return line(step, totalSteps, loss, lr, tokensPerSecond, etaSeconds, "");
    }

    /** The progress line with {@code extra} after the loss (left out when empty). */
    public static String line(long step, long totalSteps, double loss, double lr, double tokensPerSecond,
            double etaSeconds, String extra) {
        return "step " + step + "/" + totalSteps + " [" + bar(step, totalSteps, BAR_WIDTH) + "] loss "
                + (Double.isNaN(loss) ? "-" : String.format(Locale.ROOT, "%.3f", loss))
                + (extra == null || extra.isEmpty() ? "" : " " + extra) + " lr " + formatLr(lr)
                + " " + formatRate(tokensPerSecond) + " tok/s eta " + formatDuration(etaSeconds);
    }

    /** {@code width} characters: {@code =} for done, {@code >} at the head, spaces for the rest. */
    public static String bar(long step, long totalSteps, int width) {
        int done = (int) Math.max(0, Math.min(width, step * width / Math.max(1, totalSteps)));
        if (done == width) {
            return "=".repeat(width);
        }
        return "=".repeat(done) + ">" + " ".repeat(width - done - 1);
    }

    /** {@code 950}, {@code 1.2k}, {@code 12.3k}, {@code 3.4M}; {@code -} for NaN. */
    public static String formatRate(double perSecond) {
        if (Double.isNaN(perSecond) || Double.isInfinite(perSecond)) {
            return "-";
        }
        double a = Math.abs(perSecond);
        if (a < 999.5) {
            return String.format(Locale.ROOT, "%.0f", perSecond);
        } else if (a < 999_950) {
            return String.format(Locale.ROOT, "%.1fk", perSecond / 1e3);
        } else if (a < 999_950_000) {
            return String.format(Locale.ROOT, "%.1fM", perSecond / 1e6);
        }
        return String.format(Locale.ROOT, "%.1fG", perSecond / 1e9);
    }

    /** {@code 3.0e-4} style, two-digit mantissa and no exponent padding; {@code 0} and {@code -} for NaN. */
    public static String formatLr(double lr) {
        if (Double.isNaN(lr) || Double.isInfinite(lr)) {
            return "-";
        }
        if (lr == 0) {
            return "0";
        }
        String s = String.format(Locale.ROOT, "%.1e", lr); // e.g. 3.0e-04
        int e = s.indexOf('e');
        return s.substring(0, e + 1) + Integer.parseInt(s.substring(e + 1));
    }

    /** {@code 45s}, {@code 1m20s}, {@code 2h05m}, {@code 3d04h}; {@code ?} for NaN, infinite or negative. */
    public static String formatDuration(double seconds) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        } else if (s < 3600) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        } else if (s < 86_400) {
            return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", s % 3600 / 60) + "m";
        }
        return (s / 86_400) + "d" + String.format(Locale.ROOT, "%02d", s % 86_400 / 3600) + "h";
    }
}
