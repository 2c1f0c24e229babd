package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.nn.GptModel;
import org.moe4j.nn.ParameterShapes;
import org.moe4j.tensor.Tensor;

/**
 * The plan's arithmetic where no run can check it yet (ep x dp layouts, ZeRO-1, bf16 traffic), its
 * parameter shapes against a built model, and the limits that refuse a run before it allocates.
 * {@link ScalePlanMeasurementTest} holds the plan to what runs measure.
 */
class ScalePlanTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    @Test
    void parameterShapesAreTheBuiltModelsInNameOrder() {
        TrainConfig small = ScalePlanMeasurementTest.SMALL;
        List<TrainConfig> configs = List.of(small, with(small, "model.moe", "null"),
                new ConfigLoader(small).set("moe.expert", "swiglu").set("moe.shared_experts", "2")
                        .set("moe.every", "2").build());
        for (TrainConfig config : configs) {
            Map<String, Tensor> built = new GptModel(config.model(), new JvmDevice(1, false), 1).parameters();
            Map<String, long[]> planned = ParameterShapes.of(config.model());
            assertEquals(List.copyOf(built.keySet()), List.copyOf(planned.keySet()), "names in order");
            built.forEach((name, p) -> assertArrayEquals(Arrays.stream(p.shape()).asLongStream().toArray(),
                    planned.get(name), name));
        }
    }

    /** E = 8 on W = 16 as ep 8 x dp 2: experts replicated twice, moments sharded 1/W (dense) and 1/dp (experts). */
    @Test
    void expertAndDataParallelLayoutWithShardedMomentsAndBf16Traffic() {
        TrainConfig config = with(TrainConfig.DEFAULT, "batch_size", "32");
        ParallelLayout layout = layout(config, 16, 0, true, "bf16");
        assertEquals(8, layout.ep(), "the largest divisor of E = 8 that divides W = 16");
        assertEquals(2, layout.dp());
        ScalePlan plan = ScalePlan.of(config, layout);
        long total = plan.parameters().total();
        long experts = plan.parameters().experts();
        long dense = total - experts;
        assertEquals(4 * (dense + experts / 8), plan.parameterBytes());
        assertEquals(plan.parameterBytes(), plan.gradientBytes());
        assertEquals(8 * ((dense + 15) / 16 + experts / 8 / 2), plan.momentBytes());
        ScalePlan unsharded = ScalePlan.of(config, layout(config, 16, 8, false, "bf16"));
        assertEquals(8 * (dense + experts / 8), unsharded.momentBytes());
        assertEquals(4 * (2 * 15 * dense / 16 + 2 * (experts / 8) / 2), plan.allReduceBytesPerStep(),
                "dense gradients over all 16 ranks, experts' over their 2 replicas");
        ScalePlan fp32 = ScalePlan.of(config, layout(config, 16, 8, true, "fp32"));
        long tokens = 4 * plan.tokenExchanges() * 4L * plan.remoteRows() * config.model().width();
        assertEquals(tokens / 2, fp32.allToAllBytesPerStep() - plan.allToAllBytesPerStep(),
                "bf16 halves the token bytes of the 4 layers' exchanges, not the counts");
    }

    @Test
    void layoutsThatDoNotDivideAreRefusedWithTheNumbers() {
        TrainConfig config = TrainConfig.DEFAULT;
        assertMessage(() -> layout(config, 2, 4, false, "fp32"),
                "parallel.ep=4 does not divide the world size 2", "choose ep among [1, 2]");
        assertMessage(() -> layout(with(config, "moe.experts", "6"), 4, 4, false, "fp32"),
                "parallel.ep=4 does not divide moe.experts=6", "choose a divisor of 6");
        assertMessage(() -> ParallelLayout.of(config, 3),
                "batch_size=16 is not divisible by the world size 3", "use a multiple of 3");
        assertMessage(() -> layout(with(config, "model.moe", "null"), 2, 2, false, "fp32"),
                "a dense model has no experts");
        assertEquals(2, ParallelLayout.of(with(config, "moe.experts", "6"), 4).ep());
    }

    /** A layer's experts (64, 4096, 8192) are 2^31 elements: over the limit on one rank, 2^28 a rank over 8. */
    @Test
    void expertsOverTheArrayLimitFitWhenShardedOverMoreRanks() {
        TrainConfig big = new ConfigLoader(TrainConfig.DEFAULT).set("model.width", "4096").set("model.heads", "32")
                .set("moe.experts", "64").set("moe.hidden", "8192").build();
        assertMessage(() -> ScalePlan.of(big, ParallelLayout.of(big, 1)).checkArrayLimit(),
                "blocks.0.ffn.experts.up.weight [64, 4096, 8192]", "2,147,483,648 elements", "parallel.ep");
        ScalePlan sharded = ScalePlan.of(big, ParallelLayout.of(big, 8));
        sharded.checkArrayLimit();
        assertTrue(sharded.table(null).contains("[8, 4096, 8192]"), sharded.table(null));
    }

    /** docs/scale.md's example: over 10^12 parameters fit 480 devices of 32 GiB in one layout only. */
    @Test
    void theTrillionParameterExampleFitsOnlyWithEveryExpertOnceShardedMomentsAndRecomputation() {
        TrainConfig trillion = new ConfigLoader(TrainConfig.DEFAULT).file(Path.of("..", "docs", "trillion.json")).build();
        long memory = 32L << 30;
        ScalePlan fits = ScalePlan.of(trillion, layout(trillion, 480, 480, true, "fp32"));
        assertTrue(fits.parameters().total() > 1_000_000_000_000L, fits.table(memory));
        assertTrue(fits.totalBytes() <= memory, fits.table(memory));
        fits.checkArrayLimit();
        assertTrue(ScalePlan.of(trillion, layout(trillion, 480, 480, false, "fp32")).totalBytes() > memory,
                "dense moments on every rank");
        assertTrue(ScalePlan.of(trillion, layout(trillion, 480, 240, true, "fp32")).totalBytes() > memory,
                "every expert twice");
        assertTrue(ScalePlan.of(with(trillion, "recompute", "false"), layout(trillion, 480, 480, true, "fp32"))
                .totalBytes() > memory, "without recomputation");
    }

    @Test
    void aTensorOverTheArrayLimitIsRefusedBeforeAnythingIsAllocated() throws Exception {
        // token_embedding (2^20, 4096) = 2^32 elements: 16 GiB that is never allocated.
        TrainConfig vocab = new ConfigLoader(TrainConfig.DEFAULT).set("model.vocab_size", String.valueOf(1 << 20))
                .set("model.width", "4096").set("model.heads", "32").build();
        assertMessage(() -> new GptModel(vocab.model(), new JvmDevice(1, false), 1),
                "token_embedding [1048576, 4096]", "4,294,967,296 elements", "2,147,483,647", "model.vocab_size");
        // The head's logits (B·T, V) of 2^10 sequences of 64 over 2^15 tokens: 2^31 elements.
        TrainConfig batch = new ConfigLoader(TrainConfig.DEFAULT).set("model.moe", "null").set("batch_size", "1024")
                .set("model.vocab_size", "32768").build();
        try (Device device = Devices.open("jvm")) {
            assertMessage(() -> Trainer.start(batch, device, RunDirectory.at(dir.resolve("batch")), QUIET),
                    "head logits", "2,147,483,648 elements", "batch_size");
            assertMessage(() -> Trainer.start(vocab, device, RunDirectory.at(dir.resolve("vocab")), QUIET),
                    "token_embedding");
        }
    }

    @Test
    void aHeapTooSmallForThePlanIsRefusedWithTheXmxToPass() {
        ScalePlan plan = ScalePlan.of(TrainConfig.DEFAULT, ParallelLayout.of(TrainConfig.DEFAULT, 1));
        String message = assertMessage(() -> plan.checkHeap(64L << 20), "this JVM's heap is at most 64.0 MiB",
                "MOE_JAVA_OPTS=" + plan.xmx(), "or set recompute=true");
        assertTrue(plan.heapBytes() > plan.totalBytes(), message);
    }

    private static ParallelLayout layout(TrainConfig config, int world, int ep, boolean shardOptimizer, String commDtype) {
        TrainConfig parallel = new ConfigLoader(config).set("parallel.ep", String.valueOf(ep))
                .set("parallel.shard_optimizer", String.valueOf(shardOptimizer)).set("parallel.comm_dtype", commDtype).build();
        return ParallelLayout.of(parallel, world);
    }

    private static TrainConfig with(TrainConfig config, String field, String value) {
        return new ConfigLoader(config).set(field, value).build();
    }

    private interface Action {
        void run() throws Exception;
    }

    private static String assertMessage(Action action, String... parts) {
        String message = assertThrows(IllegalArgumentException.class, action::run).getMessage();
        List<String> missing = new ArrayList<>();
        for (String part : parts) {
            if (!message.contains(part)) {
                missing.add(part);
            }
        }
        assertTrue(missing.isEmpty(), "missing " + missing + " in: " + message);
        return message;
    }
}
