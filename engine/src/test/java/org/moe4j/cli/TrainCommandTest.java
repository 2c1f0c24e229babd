package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.metrics.MetricsLog;

/** What {@code moe train} does with {@code --resume} and with a start that fails. */
class TrainCommandTest {
    @TempDir
    Path dir;

    private final CliCapture moe = new CliCapture();

    @Test
    void resumeWithMoreStepsExtendsTheRunAndAFinishedRunHasNothingToTrain() throws IOException {
        Path runDir = dir.resolve("run");
        assertEquals(0, moe.run(TinyTrain.command("--steps", "2", "--batch-size", "2", "--run-dir", runDir.toString())));
        assertEquals(Main.EXIT_USAGE, moe.run("train", "--resume", runDir.toString()));
        assertTrue(moe.err().contains("is at step 2 and the run has steps=2, so there is nothing to train")
                && moe.err().contains("--steps N with N > 2"), moe.err());

        assertEquals(0, moe.run("train", "--resume", runDir.toString(), "--steps", "4"), moe.err());
        assertEquals(4, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step());
        List<Map<String, Object>> lines = MetricsLog.read(runDir);
        assertEquals(List.of(1L, 2L, 3L, 4L), lines.stream().map(l -> l.get("step")).toList());
        moe.checkpointServesEvalGenerateAndInspect(runDir, (Double) lines.getLast().get("eval_loss"), 4);
    }

    @Test
    void resumeRefusesAnOptionThatCannotChangeAndAcceptsTheSameValue() throws IOException {
        Path runDir = dir.resolve("run");
        assertEquals(0, moe.run(TinyTrain.command("--steps", "2", "--batch-size", "2", "--run-dir", runDir.toString())));
        assertEquals(Main.EXIT_USAGE, moe.run("train", "--resume", runDir.toString(), "--steps", "3", "--batch-size", "4",
                "--set", "model.width=32"));
        assertTrue(moe.err().contains("batch_size=4 (the checkpoint's run has batch_size=2)")
                && moe.err().contains("model.width=32"), moe.err());
        assertEquals(2, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step(), "a refused resume trained");

        // What a restart passes again: the same options, with --resume; and the allowed changes.
        assertEquals(0, moe.run(TinyTrain.command("--steps", "3", "--batch-size", "2", "--set", "eval_every=1",
                "--resume", runDir.toString())), moe.err());
        assertEquals(3, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step());
    }

    @Test
    void aStartThatFailsLeavesNoRunDirectory() throws IOException {
        Path badDevice = dir.resolve("bad-device");
        assertEquals(Main.EXIT_USAGE, moe.run(TinyTrain.command("--device", "tpu", "--run-dir", badDevice.toString())));
        assertFalse(Files.exists(badDevice), "left " + badDevice);

        Path binary = dir.resolve("data.bin");
        Files.write(binary, new byte[] {'o', 'k', (byte) 0xff, (byte) 0xfe, 0, 1});
        Path badData = dir.resolve("bad-data");
        assertEquals(Main.EXIT_USAGE, moe.run(TinyTrain.command("--data", binary.toString(), "--run-dir",
                badData.toString())));
        assertTrue(moe.err().contains("invalid byte 0xff at offset 2"), moe.err());
        assertFalse(Files.exists(badData), "left " + badData);
    }
}
