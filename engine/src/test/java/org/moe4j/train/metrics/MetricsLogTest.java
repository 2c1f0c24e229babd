package org.moe4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @TempDir
    Path dir;

    private static Map<String, Object> record(long step, double loss) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("loss", loss);
        m.put("lr", 3e-4);
        m.put("tokens_per_s", 1234.5);
        return m;
    }

    @Test
    void appendsFlushedLinesAndReadsThemBack() throws IOException {
        Path run = dir.resolve("run1");
        try (MetricsLog log = new MetricsLog(run)) {
            log.log(record(1, 5.5));
            // Flushed per line: visible before close.
            assertEquals(1, MetricsLog.read(run).size());
            log.log(record(2, Double.NaN));
        }
        try (MetricsLog log = new MetricsLog(run)) { // a resumed run appends
            log.log(Map.of("step", 3, "eval_loss", 2.0));
        }
        String first = Files.readAllLines(run.resolve(MetricsLog.FILE_NAME)).get(0);
        assertEquals("{\"step\":1,\"loss\":5.5,\"lr\":3.0E-4,\"tokens_per_s\":1234.5}", first);
        List<Map<String, Object>> r = MetricsLog.read(run.resolve(MetricsLog.FILE_NAME));
        assertEquals(3, r.size());
        assertEquals(1L, r.get(0).get("step"));
        assertEquals(5.5, r.get(0).get("loss"));
        assertTrue(Double.isNaN((Double) r.get(1).get("loss")));
        assertEquals(2.0, ((Number) r.get(2).get("eval_loss")).doubleValue());
    }

    @Test
    void tornLastLineIsSkippedButGarbageIsRefused() throws IOException {
        Path run = dir.resolve("run2");
        try (MetricsLog log = new MetricsLog(run)) {
            log.log(record(1, 1.0));
        }
        Path f = run.resolve(MetricsLog.FILE_NAME);
        Files.writeString(f, "{\"step\":2,\"lo", StandardOpenOption.APPEND);
        assertEquals(1, MetricsLog.read(run).size());
        Files.writeString(f, "\n", StandardOpenOption.APPEND);
        IOException e = assertThrows(IOException.class, () -> MetricsLog.read(run));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }
}
