package org.moe4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    @Test
    void formatsRatesDurationsAndLearningRates() {
        assertEquals("950", ProgressBar.formatRate(950));
        assertEquals("1.2k", ProgressBar.formatRate(1234));
        assertEquals("12.3k", ProgressBar.formatRate(12_345));
        assertEquals("1.0M", ProgressBar.formatRate(999_999));
        assertEquals("3.4M", ProgressBar.formatRate(3_400_000));
        assertEquals("-", ProgressBar.formatRate(Double.NaN));
        assertEquals("45s", ProgressBar.formatDuration(45.2));
        assertEquals("1m20s", ProgressBar.formatDuration(80));
        assertEquals("1m05s", ProgressBar.formatDuration(65));
        assertEquals("2h05m", ProgressBar.formatDuration(2 * 3600 + 5 * 60 + 9));
        assertEquals("3d04h", ProgressBar.formatDuration(3 * 86_400 + 4 * 3600));
        assertEquals("?", ProgressBar.formatDuration(Double.NaN));
        assertEquals("3.0e-4", ProgressBar.formatLr(3e-4));
        assertEquals("1.5e-3", ProgressBar.formatLr(0.0015));
        assertEquals("0", ProgressBar.formatLr(0));
    }

    @Test
    void lineMatchesTheDocumentedShape() {
        assertEquals("step 120/300 [========>           ] loss 2.134 lr 3.0e-4 1.2k tok/s eta 1m20s",
                ProgressBar.line(120, 300, 2.1341, 3e-4, 1234, 80));
        assertEquals("====================", ProgressBar.bar(300, 300, 20));
        assertEquals(">    ", ProgressBar.bar(0, 300, 5));
    }

    @Test
    void linePerUpdateWhenNotATerminalAndCarriageReturnsOnOne() {
        AtomicLong clock = new AtomicLong();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressBar plain = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 10, false, clock::get);
        plain.update(1, 3.0, 1e-3, 500);
        clock.addAndGet(2_000_000_000L); // 2 s per step from here on
        plain.update(2, 2.5, 1e-3, 500);
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[0].endsWith("eta ?"), lines[0]);
        assertTrue(lines[1].endsWith("eta 16s"), lines[1]);

        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        ProgressBar live = new ProgressBar(new PrintStream(tty, true, StandardCharsets.UTF_8), 10, true, clock::get);
        live.update(1, 3.0, 1e-3, 500);
        live.update(2, 2.5, 1e-3, 500);
        live.finish();
        String out = tty.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.chars().filter(c -> c == '\r').count());
        assertTrue(out.endsWith(System.lineSeparator()));
    }
}
