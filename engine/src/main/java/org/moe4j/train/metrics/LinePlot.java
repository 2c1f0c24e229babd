package org.moe4j.train.metrics;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.moe4j.train.checkpoint.AtomicFiles;

/**
 * A PNG line chart of named series (e.g. "train loss" and "eval loss" against step) with a
 * title, axis labels, "nice" tick values (1, 2 or 5 times a power of ten) and a legend, drawn with
 * java.awt on an off-screen image so it works on headless servers and CI.
 *
 * <p>Non-finite points are skipped and break the line there; a series with one finite point is
 * drawn as a dot; a chart without any finite point still renders, with empty axes. A series added
 * with {@link #addPoints} is a scatter: markers only, no line. Series past the eighth reuse the
 * palette's colours, drawn dashed (lines) or with square markers (points) so they stay apart.
 */
public final class LinePlot {

    static {
        // Training runs on servers without a display; AWT must not try to connect to one.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};
    private static final int LEFT = 80;
    private static final int RIGHT = 24;
    private static final int TOP = 44;
    private static final int BOTTOM = 60;
    private static final BasicStroke SOLID = new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    private static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
            new float[] {8f, 5f}, 0f);

    private record Series(String name, double[] x, double[] y, boolean pointsOnly) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private int width = 800;
    private int height = 500;

    /** An empty chart; add series with {@link #add}. */
    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /**
     * Sets the image size in pixels (default 800 x 500).
     *
     * @throws IllegalArgumentException if smaller than 200 x 150, too small for axes and labels
     */
    public LinePlot size(int width, int height) {
        if (width < 200 || height < 150) {
            throw new IllegalArgumentException("plot size " + width + "x" + height + " is below the minimum 200x150");
        }
        this.width = width;
        this.height = height;
        return this;
    }

    /**
     * Adds a series drawn as a line through {@code (x[i], y[i])} in order. Arrays are copied.
     *
     * @throws IllegalArgumentException if {@code x} and {@code y} differ in length
     */
    public LinePlot add(String name, double[] x, double[] y) {
        return add(name, x, y, false);
    }

    /**
     * Adds a series drawn as markers at {@code (x[i], y[i])}, not joined by a line (a scatter
     * plot). Arrays are copied.
     *
     * @throws IllegalArgumentException if {@code x} and {@code y} differ in length
     */
    public LinePlot addPoints(String name, double[] x, double[] y) {
        return add(name, x, y, true);
    }

    private LinePlot add(String name, double[] x, double[] y, boolean pointsOnly) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("series \"" + name + "\" has " + x.length + " x values but "
                    + y.length + " y values");
        }
        series.add(new Series(name, x.clone(), y.clone(), pointsOnly));
        return this;
    }

    /** Writes the chart as a PNG, atomically (a reader never sees half an image). */
    public void save(Path png) throws IOException {
        BufferedImage image = render();
        // ImageIO's file cache registers a shutdown hook, refused while a run stopped by a signal
        // writes its last plot; a chart is small enough to encode in memory.
        ImageIO.setUseCache(false);
        AtomicFiles.writeStream(png, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer in this JVM");
            }
        });
    }

    /** Draws the chart. */
    public BufferedImage render() {
        double[] xr = range(true);
        double[] yr = range(false);
        double[] xt = niceTicks(xr[0], xr[1], 8);
        double[] yt = niceTicks(yr[0], yr[1], 6);
        double x0 = xt[0];
        double x1 = xt[xt.length - 1];
        double y0 = yt[0];
        double y1 = yt[yt.length - 1];
        int pw = width - LEFT - RIGHT;
        int ph = height - TOP - BOTTOM;

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
            g.setFont(font);
            FontMetrics fm = g.getFontMetrics();

            // Grid and tick labels.
            double xStep = xt.length > 1 ? xt[1] - xt[0] : 1;
            double yStep = yt.length > 1 ? yt[1] - yt[0] : 1;
            for (double v : xt) {
                int px = LEFT + (int) Math.round((v - x0) / (x1 - x0) * pw);
                g.setColor(new Color(0xE6E6E6));
                g.drawLine(px, TOP, px, TOP + ph);
                String s = tickLabel(v, xStep);
                g.setColor(Color.DARK_GRAY);
                g.drawString(s, px - fm.stringWidth(s) / 2, TOP + ph + fm.getAscent() + 4);
            }
            for (double v : yt) {
                int py = TOP + ph - (int) Math.round((v - y0) / (y1 - y0) * ph);
                g.setColor(new Color(0xE6E6E6));
                g.drawLine(LEFT, py, LEFT + pw, py);
                String s = tickLabel(v, yStep);
                g.setColor(Color.DARK_GRAY);
                g.drawString(s, LEFT - fm.stringWidth(s) - 6, py + fm.getAscent() / 2 - 1);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);

            // Labels: title centred on top, x label below, y label rotated on the left.
            g.setFont(font.deriveFont(Font.BOLD, 15f));
            FontMetrics tm = g.getFontMetrics();
            g.drawString(title, (width - tm.stringWidth(title)) / 2, TOP - 14);
            g.setFont(font.deriveFont(13f));
            FontMetrics lm = g.getFontMetrics();
            g.drawString(xLabel, LEFT + (pw - lm.stringWidth(xLabel)) / 2, height - 14);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, -(TOP + (ph + lm.stringWidth(yLabel)) / 2), 18);
            g.setTransform(saved);
            g.setFont(font);

            // Series, clipped to the plot area.
            g.setClip(LEFT, TOP, pw + 1, ph + 1);
            for (int s = 0; s < series.size(); s++) {
                Series ser = series.get(s);
                boolean secondRound = (s / PALETTE.length) % 2 == 1;
                g.setColor(PALETTE[s % PALETTE.length]);
                g.setStroke(secondRound ? DASHED : SOLID);
                Path2D.Double path = new Path2D.Double();
                boolean penDown = false;
                for (int i = 0; i < ser.x.length; i++) {
                    if (!finite(ser.x[i]) || !finite(ser.y[i])) {
                        penDown = false;
                        continue;
                    }
                    double px = LEFT + (ser.x[i] - x0) / (x1 - x0) * pw;
                    double py = TOP + ph - (ser.y[i] - y0) / (y1 - y0) * ph;
                    if (ser.pointsOnly) {
                        marker(g, px, py, secondRound);
                        continue;
                    }
                    boolean prevOk = i > 0 && finite(ser.x[i - 1]) && finite(ser.y[i - 1]);
                    boolean nextOk = i + 1 < ser.x.length && finite(ser.x[i + 1]) && finite(ser.y[i + 1]);
                    if (!prevOk && !nextOk) {
                        g.fillOval((int) Math.round(px) - 3, (int) Math.round(py) - 3, 7, 7); // isolated point
                    }
                    if (penDown) {
                        path.lineTo(px, py);
                    } else {
                        path.moveTo(px, py);
                        penDown = true;
                    }
                }
                g.draw(path);
            }
            g.setStroke(SOLID);
            g.setClip(null);

            // Legend, top right inside the plot.
            if (!series.isEmpty()) {
                int lineH = fm.getHeight();
                int textW = series.stream().mapToInt(ser -> fm.stringWidth(ser.name)).max().orElse(0);
                int boxW = textW + 40;
                int boxH = lineH * series.size() + 8;
                int bx = LEFT + pw - boxW - 8;
                int by = TOP + 8;
                g.setColor(new Color(255, 255, 255, 230));
                g.fillRect(bx, by, boxW, boxH);
                g.setColor(Color.GRAY);
                g.drawRect(bx, by, boxW, boxH);
                for (int s = 0; s < series.size(); s++) {
                    int cy = by + 4 + lineH * s + lineH / 2;
                    boolean secondRound = (s / PALETTE.length) % 2 == 1;
                    g.setColor(PALETTE[s % PALETTE.length]);
                    if (series.get(s).pointsOnly) {
                        marker(g, bx + 17, cy, secondRound);
                    } else {
                        g.setStroke(secondRound ? DASHED : SOLID);
                        g.drawLine(bx + 6, cy, bx + 28, cy);
                        g.setStroke(SOLID);
                    }
                    g.setColor(Color.BLACK);
                    g.drawString(series.get(s).name, bx + 34, cy + fm.getAscent() / 2 - 1);
                }
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /**
     * Tick values covering {@code [min, max]}: at most about {@code maxTicks} multiples of a step
     * that is 1, 2 or 5 times a power of ten (Heckbert's "nice numbers"); the first tick is at or
     * below {@code min} and the last at or above {@code max}. A degenerate range is widened first.
     */
    public static double[] niceTicks(double min, double max, int maxTicks) {
        if (!finite(min) || !finite(max) || min > max || maxTicks < 2) {
            throw new IllegalArgumentException("need finite min <= max and maxTicks >= 2, got [" + min + ", " + max
                    + "] maxTicks=" + maxTicks);
        }
        if (min == max) {
            double pad = min == 0 ? 1 : Math.abs(min) * 0.1;
            min -= pad;
            max += pad;
        }
        double step = niceNumber(niceNumber(max - min, false) / (maxTicks - 1), true);
        double lo = Math.floor(min / step) * step;
        double hi = Math.ceil(max / step) * step;
        int n = (int) Math.round((hi - lo) / step) + 1;
        double[] ticks = new double[n];
        for (int i = 0; i < n; i++) {
            ticks[i] = lo + i * step; // from lo, not by accumulating, to keep rounding error from drifting
        }
        return ticks;
    }

    /** {@code v} with as many decimals as the tick step needs ({@code 0.25}, {@code 1200}, {@code 2e-05}). */
    static String tickLabel(double v, double step) {
        if (Math.abs(v) < step * 1e-9) {
            return "0"; // not "-0" or "1e-17" from floating-point noise
        }
        int decimals = (int) Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
        if (decimals > 4 || Math.abs(v) >= 1e7) {
            return String.format(Locale.ROOT, "%.2g", v).replace("e+0", "e").replace("e-0", "e-");
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private double[] range(boolean x) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (finite(s.x[i]) && finite(s.y[i])) {
                    double v = x ? s.x[i] : s.y[i];
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        return lo <= hi ? new double[] {lo, hi} : new double[] {0, 1};
    }

    /** A filled marker centred on {@code (px, py)}: a disc, or a square for the second round of colours. */
    private static void marker(Graphics2D g, double px, double py, boolean square) {
        int x = (int) Math.round(px) - 4;
        int y = (int) Math.round(py) - 4;
        if (square) {
            g.fillRect(x, y, 9, 9);
        } else {
            g.fillOval(x, y, 9, 9);
        }
    }

    private static double niceNumber(double x, boolean round) {
        double exp = Math.floor(Math.log10(x));
        double f = x / Math.pow(10, exp);
        double nice;
        if (round) {
            nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
        } else {
            nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
        }
        return nice * Math.pow(10, exp);
    }

    private static boolean finite(double v) {
        return !Double.isNaN(v) && !Double.isInfinite(v);
    }
}
