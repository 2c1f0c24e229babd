package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code moe plan}: the table, the fit against --device-memory, a layout that does not divide; and
 * {@code moe train} in a heap too small for its plan.
 */
class PlanCommandTest {

    @Test
    void printsEveryCategoryTheTrafficAndTheHeapToPass() {
        String table = new CliCapture().output("plan", "--world", "4", "--device-memory", "32GiB");
        for (String part : new String[] {"world 4 = ep 4 x dp 1", "2,452,864 total", "active per token", "FLOP per token",
                "parameters", "gradients", "AdamW moments", "activations", "all-to-all buffers", "all-to-all ",
                "all-reduce", "largest tensor", "fits in 32.0 GiB: yes", "MOE_JAVA_OPTS=-Xmx"}) {
            assertTrue(table.contains(part), "no '" + part + "' in:\n" + table);
        }
        String planned = new CliCapture().output("plan", "--world", "16", "--ep", "8", "--shard-optimizer",
                "--comm-dtype", "bf16", "--set", "recompute=true", "--set", "batch_size=32");
        assertTrue(planned.contains("world 16 = ep 8 x dp 2") && planned.contains("recompute on")
                && planned.contains("sharded (ZeRO-1)") && planned.contains("token all-to-all bf16"), planned);
        String tight = new CliCapture().output("plan", "--world", "1", "--device-memory", "64MiB");
        assertTrue(tight.contains("fits in 64.0 MiB: no"), tight);
    }

    @Test
    void aLayoutThatDoesNotDivideExitsWithUsageAndTheNumbers() {
        CliCapture cli = new CliCapture();
        assertEquals(Main.EXIT_USAGE, cli.run("plan", "--world", "2", "--ep", "4"));
        assertTrue(cli.err().contains("parallel.ep=4 does not divide the world size 2")
                && cli.err().contains("choose ep among [1, 2]"), cli.err());
    }

    /** The default model's plan (about 150 MiB) in a JVM of 64 MiB: refused before training, with the -Xmx to pass. */
    @Test
    void trainInAHeapTooSmallForThePlanExitsWithTheHeapToPass(@TempDir Path dir) throws Exception {
        List<String> command = new ArrayList<>(ChildMoe.command("train", "--steps", "1", "--run-dir",
                dir.resolve("run").toString()));
        command.add(command.indexOf("-cp"), "-Xmx64m");
        Process process = ChildMoe.builder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_USAGE, process.waitFor(), output);
        assertTrue(output.contains("this JVM's heap is at most 64.0 MiB") && output.contains("MOE_JAVA_OPTS=-Xmx"),
                output);
    }

    @Test
    void deviceMemoryTakesBinaryAndDecimalUnits() {
        assertEquals(32L << 30, PlanCommand.parseBytes("32GiB"));
        assertEquals(32L << 30, PlanCommand.parseBytes("32g"));
        assertEquals(32_000_000_000L, PlanCommand.parseBytes("32GB"));
        assertEquals(1536L << 20, PlanCommand.parseBytes("1.5GiB"));
        assertEquals(4096, PlanCommand.parseBytes("4096"));
    }
}
