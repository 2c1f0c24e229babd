package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.moe4j.kernels.Device;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;
import org.moe4j.train.metrics.MetricsLog;
import picocli.CommandLine;

/**
 * A real signal to a training JVM: it finishes the step, writes a checkpoint, exits with the
 * signal's conventional status, and the resumed run continues the uninterrupted curve bit for bit.
 */
class SignalTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static final String[] TRAIN = TinyTrain.with("--steps", "100000", "--batch-size", "2",
            "--set", "checkpoint_every=100000");

    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void killLeftover() throws InterruptedException {
        if (child != null) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @CsvSource({"TERM, 143", "INT, 130"})
    void aSignalStopsAfterTheStepWithACheckpointAndTheRunResumesTheSameCurve(String signal, int status)
            throws Exception {
        assumeFalse(ignoredHere(signal), "SIG" + signal + " is ignored by this process (started in the background"
                + " without job control), so its children inherit that and cannot be stopped by it");
        Path run = dir.resolve("run");
        List<String> command = new ArrayList<>(ChildMoe.command("train"));
        command.addAll(List.of(TRAIN));
        command.addAll(List.of("--run-dir", run.toString()));
        Path out = dir.resolve("out.txt");
        child = ChildMoe.builder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        awaitLoggedSteps(run, 3);
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid())).start().waitFor());
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "still running after SIG" + signal);
        String output = Files.readString(out);
        assertEquals(status, child.exitValue(), output);

        Checkpoint checkpoint = Checkpoint.load(run.resolve(Checkpoint.FILE_NAME));
        int stoppedAt = checkpoint.step();
        assertTrue(output.contains("stopped after step " + stoppedAt + " of 100000"), output);
        List<Map<String, Object>> logged = MetricsLog.read(run);
        assertEquals(stoppedAt, logged.size(), "one metrics line per step up to the checkpoint");

        TrainConfig config = ((TrainCommand) new CommandLine(new TrainCommand()).parseArgs(TRAIN).commandSpec()
                .userObject()).config();
        int until = stoppedAt + 2;
        List<Float> curve = new ArrayList<>();
        logged.forEach(line -> curve.add(((Number) line.get("loss")).floatValue()));
        try (Device device = Devices.open("jvm")) {
            try (Trainer resumed = Trainer.resume(checkpoint, device, RunDirectory.at(run), QUIET)) {
                resumed.runUntil(until);
                curve.addAll(resumed.losses());
            }
            try (Trainer whole = Trainer.start(config, device, RunDirectory.at(dir.resolve("whole")), QUIET)) {
                whole.runUntil(until);
                assertEquals(whole.losses(), curve);
            }
        }
    }

    /** Whether this process ignores the signal (the SigIgn mask of /proc/self/status), as children then do. */
    private static boolean ignoredHere(String signal) throws IOException {
        int number = signal.equals("INT") ? 2 : 15;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) >> (number - 1) & 1) != 0;
            }
        }
        return false;
    }

    private void awaitLoggedSteps(Path run, int steps) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.isRegularFile(run.resolve(MetricsLog.FILE_NAME)) || MetricsLog.read(run).size() < steps) {
            if (!child.isAlive() || System.nanoTime() > deadline) {
                fail("the run did not log " + steps + " steps");
            }
            Thread.sleep(50);
        }
    }
}
