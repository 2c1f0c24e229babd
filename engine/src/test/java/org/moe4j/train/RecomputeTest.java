package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.moe.MoeLayer;
import org.moe4j.moe.RoutingStats;
import org.moe4j.nn.GptModel;
import org.moe4j.parallel.LoopbackRanks;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * Activation recomputation ({@code recompute: true}) changes memory and time, never a result: the
 * gradients are the same bits, the routing is the first pass's (same plan, same drops, the jitter
 * stream drawn once), and a training run has the same losses, in one process and over two ranks.
 */
class RecomputeTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    /** Capacity factor 0.5 drops assignments; jitter moves the routing with the noise. */
    static final TrainConfig TINY = new ConfigLoader(ExpertParallelTrainingTest.TINY).set("steps", "4")
            .set("warmup_steps", "1").set("eval_every", "4").set("eval_batches", "1").set("checkpoint_every", "0")
            .set("moe.capacity_factor", "0.5").build();
    private static final Map<String, TrainConfig> MODELS = new LinkedHashMap<>();

    static {
        MODELS.put("dense", new ConfigLoader(TINY).set("model.moe", "null").build());
        MODELS.put("2 top-1, drops, jitter", TINY);
        MODELS.put("top-2 sigmoid, bias balancing, shared expert, jitter", new ConfigLoader(TINY)
                .set("moe.router", "topk").set("moe.k", "2").set("moe.gate", "sigmoid").set("moe.balance", "bias")
                .set("moe.shared_experts", "1").set("moe.capacity_factor", "1.0").build());
        MODELS.put("expert choice", new ConfigLoader(TINY).set("moe.router", "expert_choice").build());
    }

    @TempDir
    Path dir;

    @Test
    void gradientsRoutingAndNoiseAreTheSameBitsWithRecomputation() {
        MODELS.forEach((name, config) -> {
            Pass plain = pass(config, false);
            Pass recomputed = pass(config, true);
            assertEquals(Float.floatToIntBits(plain.loss), Float.floatToIntBits(recomputed.loss), name + ": loss");
            plain.grads.forEach((p, grad) -> assertArrayEquals(grad, recomputed.grads.get(p), name + ": gradient of " + p));
            assertEquals(plain.stats.stream().map(RecomputeTest::describe).toList(),
                    recomputed.stats.stream().map(RecomputeTest::describe).toList(), name + ": routing statistics");
            assertEquals(plain.jitterStates, recomputed.jitterStates, name + ": jitter streams after the step");
            for (String kernel : List.of("Router.topK", "Router.assignCapacity", "Router.expertChoice")) {
                assertEquals(plain.launches.getOrDefault(kernel, 0), recomputed.launches.getOrDefault(kernel, 0),
                        name + ": routing is decided once per layer, not again in the recomputation (" + kernel + ")");
            }
            assertTrue(recomputed.keptSteps < plain.keptSteps / 2, name + ": the backward pass keeps "
                    + recomputed.keptSteps + " steps with recomputation, " + plain.keptSteps + " without");
        });
        double drops = pass(TINY, true).stats.getFirst().dropFraction();
        assertTrue(drops > 0.2, "capacity factor 0.5 drops assignments: " + drops);
    }

    @Test
    void trainingRunsHaveTheSameLossesInOneProcessAndOverTwoRanks() throws Exception {
        assertEquals(train(TINY, false), train(TINY, true), "one process");
        assertEquals(sharded(false), sharded(true), "two ranks");
    }

    /** One training forward and backward of a fresh model on a fixed batch. */
    private static Pass pass(TrainConfig config, boolean recompute) {
        try (MeasuringDevice device = new MeasuringDevice(Devices.open("jvm"), null)) {
            GptModel model = new GptModel(config.model(), device, config.seed());
            model.setRecompute(recompute);
            int length = config.model().contextSize();
            int[] tokens = new int[config.batchSize() * length];
            int[] targets = new int[tokens.length];
            SplitMix64 random = new SplitMix64(7);
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = random.nextInt(config.model().vocabSize());
                targets[i] = random.nextInt(config.model().vocabSize());
            }
            Tape tape = Tape.training(device);
            Tensor loss = model.loss(tape, tokens, targets, config.batchSize(), length);
            int kept = tape.recordedSteps();
            tape.backward(loss);
            Map<String, int[]> grads = new LinkedHashMap<>();
            model.parameters().forEach((name, p) -> {
                float[] g = p.grad();
                device.copyToHost(g);
                int[] bits = new int[g.length];
                for (int i = 0; i < g.length; i++) {
                    bits[i] = Float.floatToIntBits(g[i]);
                }
                grads.put(name, bits);
            });
            List<RoutingStats> stats = model.moeLayers().stream().map(MoeLayer::lastStats).toList();
            return new Pass(loss.toHost().data()[0], grads, stats, model.jitterStates(), kept,
                    new LinkedHashMap<>(device.launches()));
        }
    }

    /** Every field of the statistics, the arrays by value. */
    private static List<Object> describe(RoutingStats s) {
        return List.of(s.tokens(), s.capacity(), Arrays.toString(s.tokensPerExpertRouted()),
                Arrays.toString(s.tokensPerExpert()), s.dropFraction(), s.routerEntropy(), s.auxLoss(), s.zLoss(),
                s.slotUse(), Arrays.toString(s.balanceBias()));
    }

    private record Pass(float loss, Map<String, int[]> grads, List<RoutingStats> stats, Map<String, Long> jitterStates,
                        int keptSteps, Map<String, Integer> launches) {
    }

    private List<Float> train(TrainConfig config, boolean recompute) throws Exception {
        TrainConfig run = new ConfigLoader(config).set("recompute", String.valueOf(recompute)).build();
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(run, device, RunDirectory.at(dir.resolve("one-" + recompute)), QUIET)) {
            trainer.run();
            return trainer.losses();
        }
    }

    private List<List<Float>> sharded(boolean recompute) throws Exception {
        TrainConfig run = new ConfigLoader(TINY).set("recompute", String.valueOf(recompute)).set("steps", "3").build();
        Path at = dir.resolve("two-" + recompute);
        return new ArrayList<>(LoopbackRanks.run(2, Duration.ofSeconds(60), group -> {
            try (Device device = Devices.open("jvm");
                 Trainer trainer = Trainer.start(run, device, RunDirectory.at(at), QUIET, new ExpertParallel(group))) {
                trainer.run();
                return trainer.losses();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }));
    }
}
