package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.distributed.LocalLaunch;
import org.moe4j.kernels.Device;
import org.moe4j.testing.Close;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.ShardedCheckpoint;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;
import org.moe4j.train.metrics.MetricsLog;

/**
 * Real processes on loopback: {@code moe launch --nproc 2 train} equals the one-process run, a
 * config error in every rank is forwarded as the exit status, and a killed rank makes the others
 * fail naming it, without a checkpoint after the failure.
 */
class MultiProcessTrainingTest {
    /** The collective timeout of the killed-rank test, in seconds. */
    private static final long COLLECTIVE_TIMEOUT_S = 5;
    private static final Pattern LOSS = Pattern.compile("\"loss\":([0-9.eE+-]+)");
    private final List<Process> started = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void launchTwoRanksEqualsOneProcess() throws Exception {
        Path run = dir.resolve("w2");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new ArrayList<>(List.of("launch", "--nproc", "2", "train"));
        args.addAll(TinyTrain.ARGS);
        args.addAll(List.of("--set", "moe.experts=4", "--batch-size", "4", "--steps", "4", "--run-dir", run.toString()));
        int status = cli(out, err).execute(args.toArray(String[]::new));
        assertEquals(0, status, "stdout:\n" + out + "\nstderr:\n" + err);
        assertTrue(out.toString().lines().allMatch(l -> l.startsWith("[rank 0] ")), out.toString());
        assertTrue(out.toString().contains("[rank 0] done: "), out.toString());

        List<Float> single = singleProcessLosses(
                parse(TinyTrain.with("--set", "moe.experts=4", "--batch-size", "4", "--steps", "4")), "w1");
        assertSameLosses(single, losses(run.resolve("metrics.jsonl")));
        assertEquals(4, Checkpoint.load(run.resolve(ShardedCheckpoint.MANIFEST)).step());
        // The two ranks' eval loss is the one process's evaluation of the sharded checkpoint.
        List<Map<String, Object>> lines = MetricsLog.read(run);
        new CliCapture().checkpointServesEvalGenerateAndInspect(run, (Double) lines.getLast().get("eval_loss"), 4);
    }

    /** Four processes, the default model architecture, the smallest global batch divisible by 4 and 3 steps. */
    @Test
    void launchFourRanksOfTheDefaultModelEqualsOneProcess() throws Exception {
        String[] train = {"--batch-size", "4", "--steps", "3", "--set", "eval_batches=1", "--set", "eval_every=100",
            "--set", "log_every=1", "--set", "corpus_bytes=20000"};
        Path run = dir.resolve("w4");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new ArrayList<>(List.of("launch", "--nproc", "4", "train"));
        args.addAll(List.of(train));
        args.addAll(List.of("--run-dir", run.toString()));
        int status = cli(out, err).execute(args.toArray(String[]::new));
        assertEquals(0, status, "stdout:\n" + out + "\nstderr:\n" + err);
        assertTrue(out.toString().contains("x 4 ranks"), out.toString());

        TrainConfig config = parse(train);
        assertEquals(TrainConfig.DEFAULT.model(), config.model(), "the default architecture");
        List<Float> single = singleProcessLosses(config, "w1-default");
        assertSameLosses(single, losses(run.resolve("metrics.jsonl")));
    }

    /**
     * Sixteen processes of a tiny model, laid out 8 × 2 (the default for 8 experts) with the
     * optimizer state sharded: JVMs that compile little and collect on one thread, so that sixteen
     * of them start and train on two cores in well under a minute.
     */
    @Test
    void sixteenProcessesTrainTheLossesOfOneProcess() throws Exception {
        Path run = dir.resolve("w16");
        String[] train = TinyTrain.with("--set", "moe.experts=8", "--set", "parallel.shard_optimizer=true",
                "--batch-size", "16", "--steps", "3", "--set", "eval_batches=1");
        List<String> cmd = new ArrayList<>(ChildMoe.command(SMALL_JVM, "launch", "--nproc", "16", "train"));
        cmd.addAll(List.of(train));
        cmd.addAll(List.of("--run-dir", run.toString()));
        Path log = dir.resolve("w16.log");
        Process launch = ChildMoe.builder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(launch);
        assertTrue(launch.waitFor(180, TimeUnit.SECONDS), "launch still running: " + Files.readString(log));
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, launch.exitValue(), output);
        assertTrue(output.contains("x 16 ranks (ep 8 × dp 2"), output);
        List<Float> single = singleProcessLosses(parse(train), "w16-single");
        assertSameLosses(single, losses(run.resolve("metrics.jsonl")));
        List<Map<String, Object>> one = MetricsLog.read(dir.resolve("w16-single"));
        List<Map<String, Object>> sixteen = MetricsLog.read(run);
        for (String key : List.of("grad_norm", "eval_loss")) {
            Close.assertClose(key + " by logged step, 16 processes against one", column(one, key),
                    column(sixteen, key), 0, 1e-5);
        }
        // Parameters and AdamW moments after the run, the 16 ranks' slices put together.
        Checkpoint expected = Checkpoint.load(dir.resolve("w16-single").resolve(Checkpoint.FILE_NAME));
        Checkpoint actual = Checkpoint.load(run.resolve(ShardedCheckpoint.MANIFEST));
        assertEquals(expected.tensors().keySet(), actual.tensors().keySet());
        expected.tensors().forEach((name, t) -> {
            float[] values = t.floats();
            double scale = 0;
            for (float v : values) {
                scale = Math.max(scale, Math.abs(v));
            }
            Close.assertClose(name + " after 3 steps, 16 processes against one", values,
                    actual.tensors().get(name).floats(), 1e-4 * scale, 1e-4);
        });
    }

    /** The values of {@code key} in the lines that have it, in order. */
    private static List<Double> column(List<Map<String, Object>> lines, String key) {
        return lines.stream().filter(l -> l.get(key) instanceof Number).map(l -> ((Number) l.get(key)).doubleValue())
                .toList();
    }

    /** JVM options for many ranks on few cores: C1 alone, one compiler and one GC thread, a small heap. */
    private static final List<String> SMALL_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
            "-XX:+UseSerialGC", "-Xmx160m");

    @Test
    void launchForwardsTheExitStatusOfAFailedRank() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new ArrayList<>(List.of("launch", "--nproc", "2", "train"));
        args.addAll(TinyTrain.ARGS);
        args.addAll(List.of("--router", "switch", "--experts", "6", "--set", "parallel.ep=3", "--steps", "1",
                "--run-dir", dir.resolve("bad").toString()));
        int status = cli(out, err).execute(args.toArray(String[]::new));
        assertEquals(Main.EXIT_USAGE, status, err.toString());
        assertTrue(err.toString().matches("(?s).*\\[rank [01]\\] error: parallel.ep=3 does not divide the world size 2.*"),
                err.toString());
    }

    @Test
    void aRankLostBeforeJoiningStopsTheOthersAtOnce() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new ArrayList<>(List.of("launch", "--nproc", "2", "train"));
        args.addAll(TinyTrain.ARGS);
        args.addAll(List.of("--steps", "50", "--batch-size", "2", "--run-dir", dir.resolve("lost").toString()));
        java.util.concurrent.CompletableFuture<Integer> launch = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli(out, err).execute(args.toArray(String[]::new)));
        // The first rank to start is killed before it can join; the other waits in the rendezvous.
        ProcessHandle first = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (first == null && System.nanoTime() < deadline) {
            first = ProcessHandle.current().children().findFirst().orElse(null);
            Thread.sleep(5);
        }
        assertTrue(first != null, "no rank started");
        long killed = System.nanoTime();
        first.destroyForcibly();
        int status = launch.get(60, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        assertEquals(137, status, err.toString());
        assertTrue(err.toString().contains("failed with status 137; stopping the other ranks"), err.toString());
        assertTrue(millis < LaunchCommand.GRACE_MILLIS, "the launch took " + millis + " ms, not less than the "
                + LaunchCommand.GRACE_MILLIS + " ms grace: the other rank was not stopped at once");
    }

    @Test
    void killedRankMakesTheOthersFailNamingItWithoutACheckpointAfterTheFailure() throws Exception {
        int w = 3;
        Path run = dir.resolve("killed");
        int port = LocalLaunch.freePort("127.0.0.1");
        String job = LocalLaunch.newJobId();
        String secret = LocalLaunch.newJobSecret();
        List<Path> stderr = new ArrayList<>();
        for (int r = 0; r < w; r++) {
            ProcessBuilder pb = ChildMoe.builder(ChildMoe.command(TinyTrain.command("--router", "switch", "--experts",
                    "3", "--batch-size", "3", "--steps", "100000", "--set", "checkpoint_every=1", "--run-dir",
                    run.toString())));
            Map<String, String> env = pb.environment();
            env.putAll(LocalLaunch.rankEnvironment(r, w, "127.0.0.1", port, job, secret));
            env.put("MOE_COLLECTIVE_TIMEOUT_S", Long.toString(COLLECTIVE_TIMEOUT_S));
            Path log = dir.resolve("rank" + r + ".err");
            stderr.add(log);
            pb.redirectError(log.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            started.add(pb.start());
        }
        Path manifest = run.resolve(ShardedCheckpoint.MANIFEST);
        // Three JVMs starting on two busy cores: a generous limit, only a broken run reaches it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!(Files.isRegularFile(manifest) && manifestStep(manifest) >= 2)) {
            if (System.nanoTime() > deadline || !started.get(0).isAlive()) {
                fail("no checkpoint of step 2; rank 0 stderr: " + Files.readString(stderr.get(0)));
            }
            Thread.sleep(50);
        }
        long killed = System.nanoTime();
        started.get(2).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        for (int r = 0; r < 2; r++) {
            Process p = started.get(r);
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "rank " + r + " still running");
            // A closed socket is seen at once; the bound is the watchdog's, twice the collective timeout.
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            assertTrue(millis <= 2000 * COLLECTIVE_TIMEOUT_S, "rank " + r + " took " + millis + " ms");
            String err = Files.readString(stderr.get(r), StandardCharsets.UTF_8);
            assertEquals(Main.EXIT_DISTRIBUTED, p.exitValue(), err);
            assertTrue(err.contains("rank 2 lost") && err.contains("(step ") && err.contains("on rank " + r),
                    "rank " + r + ": " + err);
        }
        // The manifest names a complete checkpoint; nothing of a later step was committed or left behind.
        Checkpoint last = Checkpoint.load(manifest);
        Matcher step = Pattern.compile("\\(step (\\d+)\\)").matcher(Files.readString(stderr.get(0)));
        assertTrue(step.find());
        assertTrue(last.step() < Integer.parseInt(step.group(1)), "checkpoint of step " + last.step()
                + " after a failure in step " + step.group(1));
        try (Stream<Path> files = Files.walk(run)) {
            assertFalse(files.anyMatch(p -> p.toString().contains(".tmp") && p.getFileName().toString()
                    .equals("dense.safetensors")), "a partial checkpoint was left");
        }
    }

    @Test
    void maxRestartsResumesTheGroupFromTheLastCheckpointWithTheSameLosses() throws Exception {
        Path run = dir.resolve("restarted");
        String[] train = TinyTrain.with("--set", "moe.experts=4", "--batch-size", "4", "--steps", "6",
                "--set", "checkpoint_every=2");
        List<String> cmd = new ArrayList<>(ChildMoe.command("launch", "--nproc", "2", "--max-restarts", "1", "train"));
        cmd.addAll(List.of(train));
        cmd.addAll(List.of("--run-dir", run.toString()));
        ProcessBuilder pb = ChildMoe.builder(cmd);
        // Read by the ExitAtStep listener: rank 1 halts after step 3 in the first attempt only.
        pb.environment().put(ExitAtStep.VARIABLE, "1:3");
        Path log = dir.resolve("launch.log");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process launch = pb.start();
        started.add(launch);
        assertTrue(launch.waitFor(90, TimeUnit.SECONDS), "launch still running: " + Files.readString(log));
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, launch.exitValue(), output);
        assertTrue(output.contains("MOE_TEST_EXIT_AT: rank 1 exits after step 3"), output);
        assertTrue(output.contains("launch: restart 1 of 1 after exit status 3; resuming from the last checkpoint in "),
                output);
        assertTrue(output.contains("[rank 0] resuming ") && output.contains(" at step 2"), output);
        assertEquals(6, Checkpoint.load(run.resolve(ShardedCheckpoint.MANIFEST)).step());

        List<Float> single = singleProcessLosses(parse(TinyTrain.with("--set", "moe.experts=4", "--batch-size", "4",
                "--steps", "6", "--set", "checkpoint_every=2")), "uninterrupted");
        // The first attempt logged steps 1-3; the resumed one cut the file back to step 2 and logged 3-6.
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(single.size(), lines.size(), String.join("\n", lines));
        assertSameLosses(single, losses(run.resolve("metrics.jsonl")));
    }

    /**
     * A rank lost after writing its shard of a checkpoint, before the commit: the manifest still
     * names the previous checkpoint, nothing of the new one is visible as a checkpoint, and resuming
     * gives the losses of an uninterrupted run.
     */
    @Test
    void aRankLostBetweenItsShardAndTheCommitLeavesThePreviousCheckpointToResumeFrom() throws Exception {
        Path run = dir.resolve("torn");
        String[] train = TinyTrain.with("--set", "moe.experts=4", "--batch-size", "4", "--steps", "6",
                "--set", "checkpoint_every=2", "--run-dir", run.toString());
        List<String> cmd = new ArrayList<>(ChildMoe.command("launch", "--nproc", "2", "train"));
        cmd.addAll(List.of(train));
        ProcessBuilder pb = ChildMoe.builder(cmd);
        pb.environment().put(ExitAtStep.AFTER_SHARD, "1:4");
        Path log = dir.resolve("torn.log");
        Process first = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(first);
        assertTrue(first.waitFor(120, TimeUnit.SECONDS), "launch still running: " + Files.readString(log));
        String output = Files.readString(log);
        assertEquals(ExitAtStep.STATUS, first.exitValue(), output);
        assertTrue(output.contains(ExitAtStep.AFTER_SHARD + ": rank 1 exits after writing its shard of step 4"), output);

        assertEquals(2, Checkpoint.load(run.resolve(ShardedCheckpoint.MANIFEST)).step(), "the manifest moved on");
        assertFalse(Files.exists(run.resolve("checkpoint-step000004")), "an uncommitted checkpoint directory");
        assertEquals(run.resolve(ShardedCheckpoint.MANIFEST), new RunDirectory(run).latestCheckpoint());

        List<String> resume = new ArrayList<>(List.of("launch", "--nproc", "2", "train"));
        resume.addAll(List.of(train));
        resume.addAll(List.of("--resume", run.toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, cli(out, err).execute(resume.toArray(String[]::new)), out + "\n" + err);
        assertTrue(out.toString().contains(" at step 2 of 6"), out.toString());
        try (Stream<Path> files = Files.list(run)) {
            assertEquals(List.of("checkpoint-step000006"), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("checkpoint-step")).toList(), "what is left of the torn checkpoint");
        }
        List<Float> single = singleProcessLosses(parse(train), "uninterrupted-torn");
        assertSameLosses(single, losses(run.resolve("metrics.jsonl")));
    }

    /**
     * The step a sharded checkpoint's manifest names, from the manifest alone: while the ranks run,
     * the checkpoint it names may be replaced (and its files removed) by the next.
     */
    private static int manifestStep(Path manifest) throws IOException {
        return JsonParser.parseString(Files.readString(manifest)).getAsJsonObject().get("step")
                .getAsInt();
    }

    private static TrainConfig parse(String... trainArgs) {
        return ((TrainCommand) new picocli.CommandLine(new TrainCommand()).parseArgs(trainArgs)
                .commandSpec().userObject()).config();
    }

    /** The losses of the same training in this process, on one device: the reference. */
    private List<Float> singleProcessLosses(TrainConfig config, String runName) throws IOException {
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(dir.resolve(runName)),
                     new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
            trainer.run();
            return trainer.losses();
        }
    }

    private static void assertSameLosses(List<Float> single, List<Double> sharded) {
        Close.assertClose("losses by step, W ranks against one process", single, sharded, 0, 1e-5);
    }

    private static picocli.CommandLine cli(StringWriter out, StringWriter err) {
        picocli.CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli;
    }

    private static List<Double> losses(Path metrics) throws IOException {
        List<Double> losses = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            Matcher m = LOSS.matcher(line);
            if (m.find()) {
                losses.add(Double.parseDouble(m.group(1)));
            }
        }
        return losses;
    }
}
