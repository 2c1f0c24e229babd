package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.metrics.MetricsLog;
import picocli.CommandLine;

/** What {@code moe train} does with {@code --resume}, with a start that fails, and what its help says. */
class TrainCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void resumeWithMoreStepsExtendsTheRunAndAFinishedRunHasNothingToTrain() throws IOException {
        Path runDir = dir.resolve("run");
        assertEquals(0, run(TinyTrain.command("--steps", "2", "--batch-size", "2", "--run-dir", runDir.toString())));
        assertEquals(Main.EXIT_USAGE, run("train", "--resume", runDir.toString()));
        assertTrue(err.toString().contains("is at step 2 and the run has steps=2, so there is nothing to train")
                && err.toString().contains("--steps N with N > 2"), err.toString());

        assertEquals(0, run("train", "--resume", runDir.toString(), "--steps", "4"), err.toString());
        assertEquals(4, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step());
        List<Map<String, Object>> lines = MetricsLog.read(runDir);
        assertEquals(List.of(1L, 2L, 3L, 4L), lines.stream().map(l -> l.get("step")).toList());
    }

    @Test
    void resumeRefusesAnOptionThatCannotChangeAndAcceptsTheSameValue() throws IOException {
        Path runDir = dir.resolve("run");
        assertEquals(0, run(TinyTrain.command("--steps", "2", "--batch-size", "2", "--run-dir", runDir.toString())));
        assertEquals(Main.EXIT_USAGE, run("train", "--resume", runDir.toString(), "--steps", "3", "--batch-size", "4",
                "--set", "model.width=32"));
        assertTrue(err.toString().contains("batch_size=4 (the checkpoint's run has batch_size=2)")
                && err.toString().contains("model.width=32"), err.toString());
        assertEquals(2, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step(), "a refused resume trained");

        // What a restart passes again: the same options, with --resume; and the allowed changes.
        assertEquals(0, run(TinyTrain.command("--steps", "3", "--batch-size", "2", "--set", "eval_every=1",
                "--resume", runDir.toString())), err.toString());
        assertEquals(3, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step());
    }

    @Test
    void aStartThatFailsLeavesNoRunDirectory() throws IOException {
        Path badDevice = dir.resolve("bad-device");
        assertEquals(Main.EXIT_USAGE, run(TinyTrain.command("--device", "tpu", "--run-dir", badDevice.toString())));
        assertFalse(Files.exists(badDevice), "left " + badDevice);

        Path binary = dir.resolve("data.bin");
        Files.write(binary, new byte[] {'o', 'k', (byte) 0xff, (byte) 0xfe, 0, 1});
        Path badData = dir.resolve("bad-data");
        assertEquals(Main.EXIT_USAGE, run(TinyTrain.command("--data", binary.toString(), "--run-dir",
                badData.toString())));
        assertTrue(err.toString().contains("invalid byte 0xff at offset 2"), err.toString());
        assertFalse(Files.exists(badData), "left " + badData);
    }

    @Test
    void theCommandListShowsEachCommandsFirstSentenceWhole() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute("--help"));
        for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
            String[] description = sub.getValue().getCommandSpec().usageMessage().description();
            assertTrue(description.length > 0 && description[0].endsWith("."),
                    sub.getKey() + "'s summary is not a whole sentence: " + String.join(" | ", description));
        }
        assertTrue(out.toString().contains("--classpath") && out.toString().contains("MOE_JAVA_OPTS"), out.toString());
    }
}
