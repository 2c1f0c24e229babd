package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.Fp32Peak;
import org.moe4j.kernels.JvmDevice;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.moe.MoeLayer;
import org.moe4j.moe.RoutingStats;
import org.moe4j.train.checkpoint.CheckpointFormatException;
import org.moe4j.train.metrics.MetricsLog;

/** Determinism, resuming and checkpoint refusal of the training loop, on a tiny model. */
class TrainerTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static final TrainConfig TINY = new ConfigLoader(TrainConfig.DEFAULT)
            .set("model.context_size", "16").set("model.layers", "2").set("model.heads", "2")
            .set("model.width", "16").set("model.hidden", "32").set("batch_size", "4").set("steps", "8")
            .set("warmup_steps", "2").set("log_every", "2").set("eval_every", "4").set("eval_batches", "2")
            .set("checkpoint_every", "4").set("corpus_bytes", "20000").set("moe.experts", "4").set("moe.hidden", "16")
            .build();
    private static final TrainConfig TINY_DENSE = new ConfigLoader(TINY).set("model.moe", "null").build();
    /** The routing of current models at once: top-2 sigmoid with bias balancing, a shared expert, the sequence-wise loss. */
    private static final TrainConfig MODERN = new ConfigLoader(TINY).set("moe.router", "topk").set("moe.k", "2")
            .set("moe.gate", "sigmoid").set("moe.balance", "bias").set("moe.bias_update_rate", "0.01")
            .set("moe.shared_experts", "1").set("moe.aux_scope", "sequence").set("moe.capacity_factor", "0").build();

    private static Device device;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        device = Devices.open("jvm");
    }

    @AfterAll
    static void close() {
        device.close();
    }

    @Test
    void sameSeedGivesTheSameLossesBitForBit() throws IOException {
        List<Float> first = train(TINY, dir.resolve("a"));
        List<Float> second = train(TINY, dir.resolve("b"));
        assertEquals(TINY.steps(), first.size());
        assertEquals(first, second);
        List<Float> otherSeed = train(new ConfigLoader(TINY).set("seed", "7").build(), dir.resolve("c"));
        assertTrue(!first.equals(otherSeed), "another seed should give another curve");
    }

    @Test
    void denseModelIsStillDeterministic() throws IOException {
        assertEquals(train(TINY_DENSE, dir.resolve("a")), train(TINY_DENSE, dir.resolve("b")));
    }

    @Test
    void metricsHoldRoutingStatisticsOfEveryMoeLayer() throws IOException {
        Path runDir = dir.resolve("moe");
        // The layers' own statistics after the steps logged without an evaluation (which routes again).
        Map<Integer, List<RoutingStats>> seen = new java.util.TreeMap<>();
        try (Trainer trainer = Trainer.start(TINY, device, RunDirectory.at(runDir), QUIET)) {
            trainer.addStepListener((t, loss) -> {
                if (t.step() % TINY.logEvery() == 0 && t.step() % TINY.evalEvery() != 0) {
                    seen.put(t.step(), t.model().moeLayers().stream().map(MoeLayer::lastStats).toList());
                }
            });
            trainer.run();
        }
        assertEquals(java.util.Set.of(2, 6), seen.keySet());
        // 2 prototypes of 2 experts: C = ceil(N / 2 · 1.25) for N = 4 · 16 tokens.
        int capacity = (int) Math.ceil(TINY.tokensPerStep() / 2.0 * 1.25);
        for (Map<String, Object> line : MetricsLog.read(runDir)) {
            List<RoutingStats> stats = seen.get(((Long) line.get("step")).intValue());
            if (stats == null) {
                continue;
            }
            List<?> layers = (List<?>) line.get("moe");
            assertEquals(TINY.model().layers(), layers.size());
            double aux = 0;
            double z = 0;
            for (int i = 0; i < layers.size(); i++) {
                Map<?, ?> layer = (Map<?, ?>) layers.get(i);
                RoutingStats expected = stats.get(i);
                String where = "block " + i + " at step " + line.get("step");
                assertEquals((long) i, layer.get("block"));
                assertEquals((long) capacity, layer.get("capacity"), "capacity of block " + i);
                assertEquals(capacity, expected.capacity());
                expected.toMap().forEach((key, value) -> assertEquals(json(value), json(layer.get(key)),
                        where + ": " + key));
                double routed = ((List<?>) layer.get("tokens_per_expert_routed")).stream()
                        .mapToDouble(v -> ((Number) v).doubleValue()).sum();
                assertEquals(2.0 * TINY.tokensPerStep(), routed, "2 top-1: two assignments per token");
                aux += expected.auxLoss();
                z += expected.zLoss();
            }
            assertTrue(aux > 0 && z > 0, "losses of a real step");
            assertEquals(aux, (Double) line.get("aux_loss"), 1e-12 * aux, "aux_loss, the sum over layers");
            assertEquals(z, (Double) line.get("z_loss"), 1e-12 * z, "z_loss, the sum over layers");
        }
        train(TINY_DENSE, dir.resolve("dense"));
        assertTrue(!MetricsLog.read(dir.resolve("dense")).get(0).containsKey("moe"), "a dense model has no routing");
    }

    @Test
    void metricsReportModelFlopsAndUtilisationOfTheMeasuredPeak() throws IOException {
        Path runDir = dir.resolve("mfu");
        double flops;
        try (Trainer trainer = Trainer.start(TINY, device, RunDirectory.at(runDir), QUIET)) {
            flops = ModelFlops.perTrainedToken(TINY.model(), trainer.model().parameters());
            trainer.run();
        }
        double peak = Fp32Peak.flopsPerSecond(((JvmDevice) device).threads());
        for (Map<String, Object> line : MetricsLog.read(runDir)) {
            assertEquals(flops, (Double) line.get("model_flops_per_token"), 1e-9 * flops);
            double mfu = (Double) line.get("mfu");
            assertEquals((Double) line.get("tokens_per_s") * flops / peak, mfu, 1e-9 * mfu);
            assertTrue(mfu > 0 && mfu < 1, "mfu " + mfu);
        }
    }

    /** A value as the metrics file holds it: arrays as lists, every number as a double. */
    private static Object json(Object value) {
        if (value instanceof double[] a) {
            return Arrays.stream(a).boxed().toList();
        }
        if (value instanceof List<?> list) {
            return list.stream().map(v -> ((Number) v).doubleValue()).toList();
        }
        return value instanceof Number n ? n.doubleValue() : value;
    }

    @Test
    void resumingFromACheckpointContinuesTheSameCurve() throws IOException {
        TrainConfig jittered = new ConfigLoader(TINY).set("moe.jitter", "0.2").build();
        resumes(TINY, dir.resolve("moe"));
        resumes(TINY_DENSE, dir.resolve("dense"));
        resumes(jittered, dir.resolve("jitter"));
        resumes(MODERN, dir.resolve("modern"));
    }

    @Test
    void theBalanceBiasMovesEveryStepIsSavedAndReportedInTheMetrics() throws IOException {
        Path runDir = dir.resolve("bias");
        train(MODERN, runDir);
        float[] saved = Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).tensors()
                .get("buffer.blocks.1.ffn.balance_bias").floats();
        double rate = MODERN.model().moe().biasUpdateRate();
        // Each step moves each bias by -rate, 0 or +rate: after 8 steps a multiple of rate, not all 0.
        boolean moved = false;
        for (float b : saved) {
            assertEquals(0, Math.abs(Math.round(b / rate) * rate - b), 1e-6, "bias " + b + " is not a multiple of " + rate);
            moved |= b != 0;
        }
        assertTrue(moved, "the bias never moved: " + Arrays.toString(saved));
        Map<?, ?> layer = (Map<?, ?>) ((List<?>) MetricsLog.read(runDir).getLast().get("moe")).get(1);
        assertEquals(TINY.model().moe().experts(), ((List<?>) layer.get("balance_bias")).size(), layer.toString());
    }

    private static void resumes(TrainConfig config, Path dir) throws IOException {
        List<Float> uninterrupted = train(config, dir.resolve("full"));

        RunDirectory run = RunDirectory.at(dir.resolve("split"));
        List<Float> resumed = new ArrayList<>();
        try (Trainer firstHalf = Trainer.start(config, device, run, QUIET)) {
            firstHalf.runUntil(4);
            resumed.addAll(firstHalf.losses());
        }
        try (Trainer secondHalf = Trainer.resume(Checkpoint.load(run.checkpoint()), device, run, QUIET)) {
            assertEquals(4, secondHalf.step());
            secondHalf.run();
            resumed.addAll(secondHalf.losses());
        }
        assertEquals(uninterrupted, resumed);
    }

    @Test
    void moreStepsExtendARunWithTheScheduleOfTheNewLength() throws IOException {
        RunDirectory run = RunDirectory.at(dir.resolve("extended"));
        TrainConfig four = new ConfigLoader(TINY).set("steps", "4").build();
        train(four, run.path());
        TrainConfig eight = new ConfigLoader(TINY).set("steps", "8").set("log_every", "1").build();
        try (Trainer trainer = Trainer.resume(Checkpoint.load(run.checkpoint()), eight, device, run, QUIET, null)) {
            trainer.run();
            assertEquals(List.of(5, 6, 7, 8).size(), trainer.losses().size());
        }
        assertEquals(8, Checkpoint.load(run.checkpoint()).step());
        LearningRateSchedule schedule = LearningRateSchedule.of(eight);
        for (Map<String, Object> line : MetricsLog.read(run.path())) {
            long step = (Long) line.get("step");
            if (step > 4) {
                assertEquals(schedule.at((int) step - 1), (Double) line.get("lr"), 1e-12, "lr of step " + step);
            }
        }
    }

    @Test
    void resumingRefusesAChangeOfAnythingButStepsDeviceAndIntervals() throws IOException {
        RunDirectory run = RunDirectory.at(dir.resolve("fixed"));
        train(new ConfigLoader(TINY).set("steps", "2").build(), run.path());
        Checkpoint checkpoint = Checkpoint.load(run.checkpoint());
        TrainConfig wider = new ConfigLoader(checkpoint.config()).set("model.width", "32").set("batch_size", "8")
                .set("steps", "4").set("eval_every", "1").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(checkpoint, wider, device, run, QUIET, null));
        assertTrue(e.getMessage().contains("model.width=32 (the checkpoint's run has model.width=16)")
                && e.getMessage().contains("batch_size=8") && !e.getMessage().contains("eval_every=1"), e.getMessage());
        TrainConfig dense = new ConfigLoader(checkpoint.config()).set("model.moe", "null").build();
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(checkpoint, dense, device, run, QUIET, null));
        assertTrue(e.getMessage().contains("model.moe"), e.getMessage());
    }

    @Test
    void aStepReplayedAfterACrashIsLoggedOnce() throws IOException {
        TrainConfig config = new ConfigLoader(TINY).set("log_every", "1").build();
        List<Map<String, Object>> uninterrupted;
        train(config, dir.resolve("whole"));
        uninterrupted = MetricsLog.read(dir.resolve("whole"));
        RunDirectory run = RunDirectory.at(dir.resolve("crashed"));
        try (Trainer trainer = Trainer.start(config, device, run, QUIET)) {
            trainer.addStepListener((t, loss) -> {
                if (t.step() == 6) {
                    throw new IOException("crash after step 6");
                }
            });
            IOException crash = assertThrows(IOException.class, trainer::run);
            assertEquals("crash after step 6", crash.getMessage());
        }
        assertEquals(6, MetricsLog.read(run.path()).size());
        try (Trainer trainer = Trainer.resume(Checkpoint.load(run.checkpoint()), device, run, QUIET)) {
            assertEquals(4, trainer.step());
            trainer.run();
        }
        List<Map<String, Object>> lines = MetricsLog.read(run.path());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), lines.stream().map(l -> l.get("step")).toList());
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(uninterrupted.get(i).get("loss"), lines.get(i).get("loss"), "loss of step " + (i + 1));
        }
    }

    @Test
    void aRequestedStopEndsAfterTheStepWithACheckpointAndResumesTheSameCurve() throws IOException {
        List<Float> uninterrupted = train(TINY, dir.resolve("whole"));
        RunDirectory run = RunDirectory.at(dir.resolve("stopped"));
        List<Float> resumed = new ArrayList<>();
        try (Trainer trainer = Trainer.start(TINY, device, run, QUIET)) {
            trainer.addStepListener((t, loss) -> {
                if (t.step() == 3) {
                    t.requestStop();
                }
            });
            trainer.run();
            assertTrue(trainer.stopped());
            assertEquals(3, trainer.step());
            resumed.addAll(trainer.losses());
        }
        assertEquals(3, Checkpoint.load(run.checkpoint()).step());
        try (Trainer trainer = Trainer.resume(Checkpoint.load(run.checkpoint()), device, run, QUIET)) {
            trainer.run();
            assertTrue(!trainer.stopped());
            resumed.addAll(trainer.losses());
        }
        assertEquals(uninterrupted, resumed);
    }

    @Test
    void aSecondTrainerOnTheSameRunDirectoryIsRefusedAndAStaleLockIsTakenOver() throws IOException {
        RunDirectory run = RunDirectory.at(dir.resolve("shared"));
        try (Trainer first = Trainer.start(TINY, device, run, QUIET)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Trainer.start(TINY, device, run, QUIET));
            assertTrue(e.getMessage().contains("in use by another trainer (pid " + ProcessHandle.current().pid()
                    + " on host ") && e.getMessage().contains(RunLock.FILE_NAME), e.getMessage());
            assertTrue(first.step() == 0);
        }
        // A lock file a dead process left: the operating system released its lock.
        Files.writeString(run.path().resolve(RunLock.FILE_NAME), "pid 4194303 on host gone");
        java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
        try (Trainer again = Trainer.start(TINY, device, run, new PrintStream(console, true))) {
            assertTrue(console.toString().contains("taking over") && console.toString().contains("pid 4194303 on host gone"),
                    console.toString());
        }
        console.reset();
        try (Trainer third = Trainer.start(TINY, device, run, new PrintStream(console, true))) {
            assertEquals("", console.toString(), "a lock released by close() is not stale");
        }
    }

    @Test
    void aRunThatFailsToStartLeavesNoDirectory() throws IOException {
        Path bad = dir.resolve("latin1.txt");
        Files.write(bad, "caf\u00e9 au lait\n".repeat(100).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        TrainConfig config = new ConfigLoader(TINY).set("data", bad.toString()).build();
        Path runDir = dir.resolve("never");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.start(config, device, RunDirectory.at(runDir), QUIET));
        assertTrue(e.getMessage().contains("not UTF-8") && e.getMessage().contains("offset 3"), e.getMessage());
        assertTrue(!Files.exists(runDir), "a failed start left " + runDir);
    }

    @Test
    void lossFallsEveryExpertLearnsAndRunDirectoryHoldsItsFiles() throws IOException {
        TrainConfig config = new ConfigLoader(TINY).set("steps", "40").set("learning_rate", "0.01").build();
        Path runDir = dir.resolve("run");
        List<Float> losses;
        try (Trainer trainer = Trainer.start(config, device, RunDirectory.at(runDir), QUIET)) {
            Map<String, float[]> before = ExpertLearning.snapshot(trainer.model());
            trainer.run();
            losses = trainer.losses();
            ExpertLearning.assertEveryExpertLearns(trainer.model(), before,
                    TrainingData.open(config).nextTrainBatch(config.batchSize(), config.model().contextSize()));
        }
        double start = (losses.get(0) + losses.get(1)) / 2;
        double end = (losses.get(38) + losses.get(39)) / 2;
        assertTrue(end < start - 0.5, "loss did not fall: " + start + " -> " + end);
        for (String file : List.of("config.json", "metrics.jsonl", "loss.png", Checkpoint.FILE_NAME)) {
            assertTrue(Files.size(runDir.resolve(file)) > 0, file + " missing or empty");
        }
        assertEquals(40, Checkpoint.load(runDir.resolve(Checkpoint.FILE_NAME)).step());
    }

    @Test
    void truncatedOrCorruptedCheckpointIsRefused() throws IOException {
        Path runDir = dir.resolve("run");
        train(new ConfigLoader(TINY).set("steps", "2").build(), runDir);
        Path checkpoint = runDir.resolve(Checkpoint.FILE_NAME);
        byte[] bytes = Files.readAllBytes(checkpoint);

        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.load(truncated));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());

        Path flipped = dir.resolve("flipped.safetensors");
        byte[] damaged = bytes.clone();
        damaged[damaged.length - 7] ^= 0x10;
        Files.write(flipped, damaged);
        e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.load(flipped));
        assertTrue(e.getMessage().toLowerCase().contains("corrupt"), e.getMessage());
    }

    @Test
    void divergingLossStopsTrainingAndKeepsTheLastCheckpoint() throws IOException {
        TrainConfig config = new ConfigLoader(TINY).set("learning_rate", "1e30").set("min_learning_rate", "0")
                .set("grad_clip", "0").set("warmup_steps", "0").set("checkpoint_every", "1").build();
        RunDirectory run = RunDirectory.at(dir.resolve("nan"));
        TrainingDivergedException e;
        try (Trainer trainer = Trainer.start(config, device, run, QUIET)) {
            e = assertThrows(TrainingDivergedException.class, trainer::run);
        }
        Checkpoint kept = Checkpoint.load(run.checkpoint());
        assertTrue(kept.step() >= 1 && kept.step() < config.steps(), "kept checkpoint of step " + kept.step());
        assertTrue(e.getMessage().contains("the checkpoint of step " + kept.step() + " (" + run.checkpoint() + ") is kept"),
                e.getMessage());
        assertTrue(e.getMessage().contains(" at step " + (kept.step() + 1) + ";"), e.getMessage());
        kept.tensors().forEach((name, tensor) -> {
            for (float v : tensor.floats()) {
                assertTrue(Float.isFinite(v), "the kept checkpoint's " + name + " holds " + v);
            }
        });
        // It resumes: the same step diverges again, from the same state.
        try (Trainer resumed = Trainer.resume(kept, device, run, QUIET)) {
            assertEquals(kept.step(), resumed.step());
            TrainingDivergedException again = assertThrows(TrainingDivergedException.class, resumed::run);
            assertEquals(e.getMessage(), again.getMessage());
        }
    }

    @Test
    void divergenceBeforeTheFirstCheckpointSaysThereIsNone() throws IOException {
        TrainConfig config = new ConfigLoader(TINY).set("learning_rate", "1e30").set("min_learning_rate", "0")
                .set("grad_clip", "0").set("warmup_steps", "0").set("checkpoint_every", "100").build();
        RunDirectory run = RunDirectory.at(dir.resolve("nan-early"));
        try (Trainer trainer = Trainer.start(config, device, run, QUIET)) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, trainer::run);
            assertTrue(e.getMessage().contains("no checkpoint was written yet (checkpoint_every=100)"), e.getMessage());
        }
        assertTrue(!Files.exists(run.checkpoint()));
    }

    @Test
    void trainsOnATextFileAndRefusesOneTooShort() throws IOException {
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "the quick brown fox jumps over the lazy dog\n".repeat(60));
        List<Float> losses = train(new ConfigLoader(TINY).set("data", text.toString()).set("steps", "2").build(),
                dir.resolve("file-run"));
        assertEquals(2, losses.size());

        Path tiny = dir.resolve("tiny.txt");
        Files.writeString(tiny, "too short");
        TrainConfig config = new ConfigLoader(TINY).set("data", tiny.toString()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.start(config, device, RunDirectory.at(dir.resolve("short")), QUIET).close());
        assertTrue(e.getMessage().contains(tiny.toString()), e.getMessage());
    }

    private static List<Float> train(TrainConfig config, Path runDir) throws IOException {
        try (Trainer trainer = Trainer.start(config, device, RunDirectory.at(runDir), QUIET)) {
            trainer.run();
            return trainer.losses();
        }
    }
}
