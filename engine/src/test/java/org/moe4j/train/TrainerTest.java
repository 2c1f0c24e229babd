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
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
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
        train(TINY, runDir);
        List<Map<String, Object>> lines = MetricsLog.read(runDir);
        Map<String, Object> first = lines.get(0);
        assertTrue(first.containsKey("aux_loss") && first.containsKey("z_loss"), first.toString());
        List<?> layers = (List<?>) first.get("moe");
        assertEquals(TINY.model().layers(), layers.size());
        Map<?, ?> layer = (Map<?, ?>) layers.get(1);
        assertEquals(1L, layer.get("block"));
        for (String key : List.of("tokens_per_expert_routed", "tokens_per_expert", "max_mean_load", "load_cv",
                "drop_fraction", "router_entropy", "aux_loss", "z_loss")) {
            assertTrue(layer.containsKey(key), key + " missing from " + layer);
        }
        double routed = ((List<?>) layer.get("tokens_per_expert_routed")).stream()
                .mapToDouble(v -> ((Number) v).doubleValue()).sum();
        assertEquals(2.0 * TINY.tokensPerStep(), routed, "2 top-1: two assignments per token");
        train(TINY_DENSE, dir.resolve("dense"));
        assertTrue(!MetricsLog.read(dir.resolve("dense")).get(0).containsKey("moe"), "a dense model has no routing");
    }

    @Test
    void resumingFromACheckpointContinuesTheSameCurve() throws IOException {
        for (TrainConfig config : List.of(TINY, TINY_DENSE)) {
            resumes(config, dir.resolve(config.model().moe() == null ? "dense" : "moe"));
        }
    }

    private static void resumes(TrainConfig config, Path dir) throws IOException {
        List<Float> uninterrupted = train(config, dir.resolve("full"));

        RunDirectory run = RunDirectory.at(dir.resolve("split"));
        Trainer firstHalf = Trainer.start(config, device, run, QUIET);
        firstHalf.runUntil(4);
        Trainer secondHalf = Trainer.resume(Checkpoint.load(run.checkpoint()), device, run, QUIET);
        assertEquals(4, secondHalf.step());
        secondHalf.run();

        List<Float> resumed = new ArrayList<>(firstHalf.losses());
        resumed.addAll(secondHalf.losses());
        assertEquals(uninterrupted, resumed);
    }

    @Test
    void lossFallsAndRunDirectoryHoldsItsFiles() throws IOException {
        TrainConfig config = new ConfigLoader(TINY).set("steps", "40").set("learning_rate", "0.01").build();
        Path runDir = dir.resolve("run");
        List<Float> losses = train(config, runDir);
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
        Trainer trainer = Trainer.start(config, device, run, QUIET);
        assertThrows(TrainingDivergedException.class, trainer::run);
        Checkpoint kept = Checkpoint.load(run.checkpoint());
        assertTrue(kept.step() >= 1 && kept.step() < config.steps(), "kept checkpoint of step " + kept.step());
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
                () -> Trainer.start(config, device, RunDirectory.at(dir.resolve("short")), QUIET));
        assertTrue(e.getMessage().contains(tiny.toString()), e.getMessage());
    }

    private static List<Float> train(TrainConfig config, Path runDir) throws IOException {
        Trainer trainer = Trainer.start(config, device, RunDirectory.at(runDir), QUIET);
        trainer.run();
        return trainer.losses();
    }
}
