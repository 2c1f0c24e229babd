package org.moe4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {

    @TempDir
    Path dir;

    @Test
    void writesPngOfRequestedSize() throws IOException {
        double[] steps = new double[50];
        double[] train = new double[50];
        for (int i = 0; i < 50; i++) {
            steps[i] = i * 10;
            train[i] = 5.5 * Math.exp(-i / 15.0) + 1.1;
        }
        Path png = dir.resolve("plots/loss.png");
        new LinePlot("loss", "step", "loss").size(640, 400)
                .add("train loss", steps, train)
                .add("eval loss", new double[] {0, 250, 490}, new double[] {5.6, 1.9, Double.NaN})
                .save(png);
        byte[] b = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(b, 4));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        assertTrue(countPixels(img, 0x1f77b4) > 100, "first series drawn in the first palette colour");
        assertTrue(countPixels(img, 0xff7f0e) > 20, "second series drawn");
    }

    @Test
    void survivesSinglePointNaNsAndEmptySeries() throws IOException {
        Path png = dir.resolve("odd.png");
        new LinePlot("odd", "x", "y")
                .add("one point", new double[] {3}, new double[] {2})
                .add("all NaN", new double[] {1, 2}, new double[] {Double.NaN, Double.NaN})
                .add("empty", new double[0], new double[0])
                .save(png);
        assertEquals(800, ImageIO.read(png.toFile()).getWidth());
        new LinePlot("nothing", "x", "y").save(png);
        assertEquals(500, ImageIO.read(png.toFile()).getHeight());
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("t", "x", "y").add("bad", new double[1], new double[2]));
    }

    @Test
    void pointsAreMarkersNotJoinedByALine() {
        double[] x = {0, 10};
        double[] y = {0, 10};
        BufferedImage line = new LinePlot("l", "x", "y").size(400, 300).add("line", x, y).render();
        BufferedImage points = new LinePlot("p", "x", "y").size(400, 300).addPoints("points", x, y).render();
        // Ticks 0..10 map the data range onto the whole plot area: (5, 5) is its centre.
        int cx = 80 + (400 - 104) / 2;
        int cy = 44 + (300 - 104) / 2;
        assertTrue(near(line, cx, cy, 0x1f77b4), "a line passes through the centre");
        assertTrue(!near(points, cx, cy, 0x1f77b4), "points are not joined");
        assertTrue(near(points, 80, 44 + 300 - 104, 0x1f77b4), "marker at (0, 0)");
        assertTrue(countPixels(points, 0x1f77b4) > 60, "two markers and the legend's");
    }

    @Test
    void seriesPastThePaletteAreStillDrawn() throws IOException {
        LinePlot plot = new LinePlot("many", "x", "y");
        for (int s = 0; s < 12; s++) {
            plot.add("line " + s, new double[] {0, 1}, new double[] {s, s + 1});
            plot.addPoints("points " + s, new double[] {0.5}, new double[] {s});
        }
        Path png = dir.resolve("many.png");
        plot.save(png);
        assertEquals(800, ImageIO.read(png.toFile()).getWidth());
        assertThrows(IllegalArgumentException.class, () -> plot.addPoints("bad", new double[2], new double[1]));
    }

    @Test
    void ticksAreNiceAndCoverTheRange() {
        assertArrayEquals(new double[] {0, 20, 40, 60, 80, 100}, LinePlot.niceTicks(0, 97, 6), 1e-12);
        double[] t = LinePlot.niceTicks(1.13, 5.61, 6);
        assertEquals(1.0, t[0], 1e-12);
        assertEquals(6.0, t[t.length - 1], 1e-12);
        double[] one = LinePlot.niceTicks(2, 2, 6);
        assertTrue(one[0] <= 2 && one[one.length - 1] >= 2);
        assertEquals("0.25", LinePlot.tickLabel(0.25, 0.05));
        assertEquals("1200", LinePlot.tickLabel(1200, 200));
        assertEquals("0", LinePlot.tickLabel(5.5e-17, 0.1));
    }

    /** Whether a pixel of colour {@code rgb} lies within 2 pixels of {@code (x, y)}. */
    private static boolean near(BufferedImage img, int x, int y, int rgb) {
        for (int dy = -2; dy <= 2; dy++) {
            for (int dx = -2; dx <= 2; dx++) {
                if ((img.getRGB(x + dx, y + dy) & 0xFFFFFF) == rgb) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int countPixels(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xFFFFFF) == rgb ? 1 : 0;
            }
        }
        return n;
    }
}
