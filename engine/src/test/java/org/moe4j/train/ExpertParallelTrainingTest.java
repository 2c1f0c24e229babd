package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.moe4j.tensor.Tensor;
import org.moe4j.testing.Close;
import org.moe4j.train.metrics.MetricsLog;

/**
 * Training with experts sharded over W ranks (threads of this JVM, each with its own process group
 * and device) follows the single-process loss curve of the same global batch, and its sharded
 * checkpoints resume with the same or another W.
 */
class ExpertParallelTrainingTest {
    static final TrainConfig TINY = new ConfigLoader(TrainConfig.DEFAULT)
            .set("model.context_size", "16").set("model.layers", "2").set("model.heads", "2")
            .set("model.width", "16").set("model.hidden", "32").set("batch_size", "4").set("steps", "6")
            .set("warmup_steps", "2").set("log_every", "1").set("eval_every", "3").set("eval_batches", "2")
            .set("checkpoint_every", "3").set("corpus_bytes", "20000").set("moe.experts", "4").set("moe.hidden", "16")
            .set("moe.capacity_factor", "1.0").set("moe.jitter", "0.1").build();
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    @Test
    void fourRanksFollowTheSingleProcessCurveAndCheckpointsReshard() throws Exception {
        List<Float> single = single(TINY, dir.resolve("single"));
        for (List<Float> rank : sharded(4, TINY, dir.resolve("w4"), TINY.steps())) {
            assertClose("4 ranks", single, rank);
        }

        // Two ranks stop after 3 steps; the sharded checkpoint resumes on 2, 4 and 1 processes.
        sharded(2, TINY, dir.resolve("w2"), 3);
        Path manifest = dir.resolve("w2").resolve(ShardedCheckpoint.MANIFEST);
        assertTrue(Files.isDirectory(dir.resolve("w2").resolve("checkpoint-step000003")));
        Checkpoint checkpoint = Checkpoint.load(manifest);
        assertEquals(3, checkpoint.step());
        List<Float> rest = single.subList(3, 6);
        for (int w : new int[] {2, 4}) {
            Path run = dir.resolve("resume" + w);
            List<List<Float>> resumed = LoopbackRanks.run(w, LIMIT, group -> {
                try (Device device = Devices.open("jvm");
                     Trainer trainer = Trainer.resume(checkpoint, checkpoint.config(), device, RunDirectory.at(run),
                             QUIET, new ExpertParallel(group))) {
                    trainer.run();
                    return trainer.losses();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            resumed.forEach(losses -> assertClose("resumed on " + w + " ranks", rest, losses));
        }
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.resume(checkpoint, device, RunDirectory.at(dir.resolve("resume1")), QUIET)) {
            trainer.run();
            assertClose("resumed on one process", rest, trainer.losses());
        }
    }

    /**
     * Losses are nearly blind to a constant gradient scale (AdamW normalises it away), so the
     * gradient norm, the eval loss and the parameters after the run are compared too, with
     * all-reduce buckets small enough that the dense gradients take many of them.
     */
    @Test
    void twoRanksWithManyBucketsMatchOneProcessInGradientNormEvalLossAndParameters() throws Exception {
        TrainConfig config = new ConfigLoader(TINY).set("all_reduce_bucket_mb", "1e-4").build();
        Map<String, float[]> single;
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(dir.resolve("one")), QUIET)) {
            trainer.run();
            single = copies(trainer.model().parameters());
        }
        Path run = dir.resolve("two");
        List<Map<String, float[]>> ranks = LoopbackRanks.run(2, LIMIT, group -> {
            try (Device device = Devices.open("jvm");
                 Trainer trainer = Trainer.start(config, device, RunDirectory.at(run), QUIET, new ExpertParallel(group))) {
                trainer.run();
                return copies(trainer.model().parameters());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        List<Map<String, Object>> one = MetricsLog.read(dir.resolve("one"));
        List<Map<String, Object>> two = MetricsLog.read(run);
        for (String key : List.of("loss", "grad_norm", "eval_loss")) {
            Close.assertClose(key + " by logged step", column(one, key), column(two, key), 0, 1e-5);
        }
        Set<String> experts = new GptModel(config.model(), new JvmDevice(1, false), config.seed()).expertParameterNames();
        for (int r = 0; r < 2; r++) {
            for (Map.Entry<String, float[]> p : ranks.get(r).entrySet()) {
                float[] all = single.get(p.getKey());
                float[] expected = experts.contains(p.getKey())
                        ? Arrays.copyOfRange(all, r * all.length / 2, (r + 1) * all.length / 2) : all;
                Close.assertClose("rank " + r + " " + p.getKey() + " after " + config.steps() + " steps", expected,
                        p.getValue(), 1e-6, 1e-4);
            }
        }
    }

    private static Map<String, float[]> copies(Map<String, Tensor> parameters) {
        Map<String, float[]> copy = new LinkedHashMap<>();
        parameters.forEach((name, p) -> copy.put(name, p.toHost().data().clone()));
        return copy;
    }

    /** The values of {@code key} in the lines that have it, in order. */
    private static List<Double> column(List<Map<String, Object>> lines, String key) {
        return lines.stream().filter(l -> l.get(key) instanceof Number).map(l -> ((Number) l.get(key)).doubleValue())
                .toList();
    }

    @Test
    void batchNotDivisibleByRanksIsAConfigError() throws Exception {
        TrainConfig odd = new ConfigLoader(TINY).set("batch_size", "3").build();
        List<String> messages = startErrors(2, odd, dir.resolve("odd"));
        assertTrue(messages.get(0).contains("batch_size=3") && messages.get(0).contains("world size 2"),
                messages.get(0));
    }

    /** What {@code Trainer.start} refuses {@code config} with on each of W ranks (run directories {@code runN}). */
    static List<String> startErrors(int w, TrainConfig config, Path run) throws Exception {
        return LoopbackRanks.run(w, LIMIT, group -> {
            try (Device device = Devices.open("jvm")) {
                return assertThrows(IllegalArgumentException.class, () -> Trainer.start(config, device,
                        RunDirectory.at(Path.of(run + Integer.toString(group.rank()))), QUIET,
                        new ExpertParallel(group))).getMessage();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    static List<Float> single(TrainConfig config, Path run) throws Exception {
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(run), QUIET)) {
            trainer.run();
            return trainer.losses();
        }
    }

    /** Every rank's losses (each the global batch's) after training W ranks for {@code steps} steps. */
    private static List<List<Float>> sharded(int w, TrainConfig config, Path run, int steps) throws Exception {
        return LoopbackRanks.run(w, LIMIT, group -> {
            try (Device device = Devices.open("jvm");
                 Trainer trainer = Trainer.start(config, device, RunDirectory.at(run), QUIET, new ExpertParallel(group))) {
                trainer.runUntil(steps);
                return trainer.losses();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    /** Losses equal within float summation differences: relative 1e-5. */
    static void assertClose(String what, List<Float> expected, List<Float> actual) {
        Close.assertClose(what + ": losses by step", expected, actual, 0, 1e-5);
    }
}
