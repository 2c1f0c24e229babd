package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.nn.GptModel;
import org.moe4j.parallel.LoopbackRanks;
import org.moe4j.testing.Close;
import org.moe4j.train.checkpoint.TensorEntry;
import org.moe4j.train.metrics.MetricsLog;

/**
 * The {@code ep × dp} layouts (threads of this JVM, each rank with its own process group and
 * device): every layout trains what one process trains on the global batch, with the optimizer
 * state sharded or not, and its sharded checkpoints resume on other layouts; bf16 all-to-alls keep
 * the loss of a longer run within 1% of fp32.
 */
class ParallelLayoutTrainingTest {
    /** Four experts, a global batch of 8 sequences (divisible by W = 8), 10 steps, evaluations at 5 and 10. */
    private static final TrainConfig TINY = new ConfigLoader(ExpertParallelTrainingTest.TINY).set("batch_size", "8")
            .set("steps", "10").set("eval_every", "5").set("checkpoint_every", "0").build();
    private static final Duration LIMIT = Duration.ofSeconds(90);
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    /** What one rank ends with. */
    private record Rank(int expertRanks, int replicas, Map<String, float[]> parameters, List<Float> losses) {
    }

    @Test
    void twoByTwoAndFourByTwoEqualOneProcessOverTenSteps() throws Exception {
        List<Map<String, Object>> one = metrics(single(TINY, dir.resolve("one")));
        for (int[] layout : new int[][] {{2, 2}, {4, 2}}) {
            int ep = layout[0];
            int w = ep * layout[1];
            TrainConfig config = with(TINY, "parallel.ep", ep);
            Path run = dir.resolve(ep + "x" + layout[1]);
            List<Rank> ranks = train(w, config, run, null, config.steps());
            String name = ep + " x " + layout[1];
            for (String key : List.of("loss", "grad_norm", "eval_loss")) {
                Close.assertClose(name + ": " + key + " by logged step", column(one, key), column(metrics(run), key),
                        0, 1e-5);
            }
            for (int r = 0; r < w; r++) {
                assertEquals(ep, ranks.get(r).expertRanks(), name + ": ep");
                assertEquals(w / ep, ranks.get(r).replicas(), name + ": dp");
                // The copies of an expert shard (ranks e, e + ep, ...) and of the dense parameters stay equal bit for bit.
                Rank first = ranks.get(r % ep);
                for (Map.Entry<String, float[]> p : ranks.get(r).parameters().entrySet()) {
                    assertArrayEquals(first.parameters().get(p.getKey()), p.getValue(),
                            name + ": " + p.getKey() + " of rank " + r + " against rank " + r % ep);
                }
                assertArrayEquals(ranks.getFirst().parameters().get("token_embedding"),
                        ranks.get(r).parameters().get("token_embedding"), name + ": dense copies");
            }
        }
    }

    /**
     * ZeRO-1 trains the same losses as the replicated optimizer, and each rank holds the moments of
     * 1/W of every dense parameter's values and 1/dp of its experts': every value's moments once.
     */
    @Test
    void shardedOptimizerStateGivesTheSameLossesAsReplicatedState() throws Exception {
        TrainConfig replicated = with(TINY, "parallel.ep", 2);
        TrainConfig sharded = new ConfigLoader(replicated).set("parallel.shard_optimizer", "true")
                .set("all_reduce_bucket_mb", "2e-3").build();
        List<Rank> off = train(4, replicated, dir.resolve("off"), null, TINY.steps());
        Map<Integer, Map<String, Integer>> owned = new LinkedHashMap<>();
        List<Rank> on = train(4, sharded, dir.resolve("on"), (rank, trainer) -> {
            assertNull(trainer.optimizer(), "no replicated moments with a sharded optimizer");
            Map<String, Integer> sizes = new LinkedHashMap<>();
            trainer.shardedOptimizer().slices().forEach((name, s) -> sizes.put(name, s.to() - s.from()));
            synchronized (owned) {
                owned.put(rank, sizes);
            }
        }, TINY.steps());
        for (int r = 0; r < 4; r++) {
            Close.assertClose("rank " + r + ": losses, sharded against replicated optimizer state",
                    off.get(r).losses(), on.get(r).losses(), 0, 1e-5);
        }
        for (String key : List.of("grad_norm", "eval_loss")) {
            Close.assertClose(key + " by logged step, sharded against replicated optimizer state",
                    column(metrics(dir.resolve("off")), key), column(metrics(dir.resolve("on")), key), 0, 1e-5);
        }
        // Rank 0 holds experts 0-1 and shares them with rank 2; every dense value is shared by all 4.
        Map<String, float[]> parameters = off.getFirst().parameters();
        Set<String> experts = new GptModel(TINY.model(), new JvmDevice(1, false), TINY.seed()).expertParameterNames();
        long dense = 0;
        long expert = 0;
        for (Map.Entry<String, float[]> p : parameters.entrySet()) {
            boolean isExpert = experts.contains(p.getKey());
            int[] holders = isExpert ? new int[] {0, 2} : new int[] {0, 1, 2, 3};
            long total = 0;
            for (int r : holders) {
                total += owned.get(r).getOrDefault(p.getKey(), 0);
            }
            assertEquals(p.getValue().length, total, "moments of " + p.getKey() + " owned by ranks "
                    + Arrays.toString(holders) + " together");
            dense += isExpert ? 0 : p.getValue().length;
            expert += isExpert ? p.getValue().length : 0;
        }
        for (int r = 0; r < 4; r++) {
            long mine = owned.get(r).values().stream().mapToLong(Integer::longValue).sum();
            // 1/W of the dense values and 1/dp of this rank's experts', up to a value per bucket
            Close.assertClose("moments kept by rank " + r, dense / 4.0 + expert / 2.0, mine, parameters.size(), 0);
        }
    }

    /**
     * A checkpoint written at 2 × 2 with the optimizer state sharded records its layout, holds the
     * moments a single process has at the same step, and resumes at 4 × 1 (sharded again, another
     * way) and at 1 × 1, continuing the single-process curve.
     */
    @Test
    void aShardedCheckpointAtTwoByTwoResumesAtFourByOneAndOnOneProcess() throws Exception {
        TrainConfig config = new ConfigLoader(TINY).set("parallel.ep", "2").set("parallel.shard_optimizer", "true")
                .set("checkpoint_every", "3").set("steps", "6").build();
        TrainConfig plain = new ConfigLoader(config).set("parallel.ep", "0").set("parallel.shard_optimizer", "false")
                .build();
        Path oneRun = dir.resolve("one");
        List<Float> single;
        Checkpoint reference;
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(plain, device, RunDirectory.at(oneRun), QUIET)) {
            trainer.runUntil(3);
            reference = Checkpoint.load(oneRun.resolve(Checkpoint.FILE_NAME));
            trainer.run();
            single = trainer.losses();
        }
        Path run = dir.resolve("2x2");
        train(4, config, run, null, 3);
        Path manifest = run.resolve(ShardedCheckpoint.MANIFEST);
        JsonObject layout = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject()
                .getAsJsonObject("layout");
        assertEquals(2, layout.get("ep").getAsInt());
        assertEquals(2, layout.get("dp").getAsInt());
        assertTrue(layout.get("shard_optimizer").getAsBoolean());
        Checkpoint checkpoint = Checkpoint.load(manifest);
        assertEquals(reference.tensors().keySet(), checkpoint.tensors().keySet());
        for (Map.Entry<String, TensorEntry> t : reference.tensors().entrySet()) {
            float[] expected = t.getValue().floats();
            double scale = 0;
            for (float v : expected) {
                scale = Math.max(scale, Math.abs(v));
            }
            Close.assertClose(t.getKey() + " at step 3, 2 x 2 sharded against one process", expected,
                    checkpoint.tensors().get(t.getKey()).floats(), 1e-4 * scale, 1e-4);
        }

        List<Float> rest = single.subList(3, 6);
        TrainConfig fourByOne = new ConfigLoader(checkpoint.config()).set("parallel.ep", "4").build();
        List<List<Float>> resumed = LoopbackRanks.run(4, LIMIT, group -> {
            try (Device device = Devices.open("jvm");
                 Trainer trainer = Trainer.resume(checkpoint, fourByOne, device, RunDirectory.at(dir.resolve("4x1")),
                         QUIET, new ExpertParallel(group))) {
                assertEquals(4, trainer.layout().expertRanks());
                trainer.run();
                return trainer.losses();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        resumed.forEach(losses -> Close.assertClose("resumed at 4 x 1: losses", rest, losses, 0, 1e-5));
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.resume(checkpoint, device, RunDirectory.at(dir.resolve("1x1")), QUIET)) {
            trainer.run();
            Close.assertClose("resumed on one process: losses", rest, trainer.losses(), 0, 1e-5);
        }
    }

    /** bf16 rows on the wire: a 100-step run's losses stay within 1% of the fp32 run's, and differ from them. */
    @Test
    void bf16AllToAllKeepsTheLossOfAHundredStepRunWithinOnePercent() throws Exception {
        TrainConfig fp32 = new ConfigLoader(ExpertParallelTrainingTest.TINY).set("steps", "100").set("warmup_steps", "10")
                .set("eval_every", "1000").set("eval_batches", "1").set("checkpoint_every", "0").set("log_every", "10")
                .set("moe.jitter", "0").build();
        TrainConfig bf16 = new ConfigLoader(fp32).set("parallel.comm_dtype", "bf16").build();
        List<Float> reference = train(2, fp32, dir.resolve("fp32"), null, fp32.steps()).getFirst().losses();
        List<Float> rounded = train(2, bf16, dir.resolve("bf16"), null, bf16.steps()).getFirst().losses();
        Close.assertClose("bf16 all-to-all against fp32: losses by step", reference, rounded, 0, 0.01);
        assertFalse(reference.equals(rounded), "the bf16 run has the fp32 run's losses: nothing was rounded");
        assertTrue(reference.getLast() < reference.getFirst() - 1, "the run learns: " + reference);
    }

    @Test
    void layoutsThatDoNotDivideAreRefusedBeforeTrainingWithWhatToChange() throws Exception {
        String staticError = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TINY).set("parallel.ep", "3").build()).getMessage();
        assertTrue(staticError.contains("parallel.ep=3 does not divide moe.experts=4"), staticError);
        String dtype = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TINY).set("parallel.comm_dtype", "fp16").build()).getMessage();
        assertTrue(dtype.contains("parallel.comm_dtype=fp16 is not allowed: must be one of [fp32, bf16]"), dtype);

        TrainConfig eight = new ConfigLoader(TINY).set("moe.experts", "8").set("parallel.ep", "8").set("batch_size", "4")
                .build();
        List<String> messages = ExpertParallelTrainingTest.startErrors(4, eight, dir.resolve("bad"));
        assertTrue(messages.getFirst().contains("parallel.ep=8 does not divide the world size 4")
                && messages.getFirst().contains("choose ep among [1, 2, 4]"), messages.getFirst());
        assertFalse(Files.exists(dir.resolve("bad0").resolve(MetricsLog.FILE_NAME)), "training started");
    }

    @Test
    void theDefaultEpIsTheLargestDivisorOfTheExpertsThatDividesTheWorld() {
        assertEquals(4, ExpertParallel.defaultSize(8, 4), "W divides E: all ranks, as before layouts");
        assertEquals(4, ExpertParallel.defaultSize(4, 8));
        assertEquals(2, ExpertParallel.defaultSize(6, 4));
        assertEquals(1, ExpertParallel.defaultSize(3, 2));
        assertEquals(1, ExpertParallel.defaultSize(0, 4), "a dense model");
    }

    /** Called on each rank's trainer once it has trained. */
    private interface Inspect {
        void accept(int rank, Trainer trainer);
    }

    /** Every rank's layout, parameters and losses after training W ranks to {@code steps} steps. */
    private static List<Rank> train(int w, TrainConfig config, Path run, Inspect inspect, int steps) throws Exception {
        return LoopbackRanks.run(w, LIMIT, group -> {
            try (Device device = Devices.open("jvm");
                 Trainer trainer = Trainer.start(config, device, RunDirectory.at(run), QUIET, new ExpertParallel(group))) {
                trainer.runUntil(steps);
                if (inspect != null) {
                    inspect.accept(group.rank(), trainer);
                }
                Map<String, float[]> copy = new LinkedHashMap<>();
                trainer.model().parameters().forEach((name, p) -> copy.put(name, p.toHost().data().clone()));
                return new Rank(trainer.layout().expertRanks(), trainer.layout().replicas(), copy, trainer.losses());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static Path single(TrainConfig config, Path run) throws Exception {
        ExpertParallelTrainingTest.single(config, run);
        return run;
    }

    private static TrainConfig with(TrainConfig base, String field, int value) {
        return new ConfigLoader(base).set(field, Integer.toString(value)).build();
    }

    private static List<Map<String, Object>> metrics(Path run) throws Exception {
        return MetricsLog.read(run);
    }

    /** The values of {@code key} in the lines that have it, in order. */
    private static List<Double> column(List<Map<String, Object>> lines, String key) {
        return lines.stream().filter(l -> l.get(key) instanceof Number).map(l -> ((Number) l.get(key)).doubleValue())
                .toList();
    }
}
