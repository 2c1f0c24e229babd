package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.nn.LayerContext;
import org.moe4j.parallel.LoopbackRanks;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * An expert-parallel MoE layer over W ranks (threads with their own process groups) computes what
 * one process computes on the concatenated batch: outputs, input and parameter gradients, routing
 * statistics and auxiliary losses; also when a rank's tokens all leave it, an expert gets none, or
 * a rank has no tokens at all.
 */
class ExpertParallelLayerTest {
    private static final int D = 6;
    private static final int F = 5;
    private static final Duration LIMIT = Duration.ofSeconds(30);

    /** What one rank (or the single process) computed. */
    private record Result(float[] y, float[] dx, Map<String, float[]> grads, RoutingStats stats) {
    }

    @Test
    void prototypingOverTwoRanksEqualsOneProcess() throws Exception {
        check(MoeTesting.config("prototype", 8, 2, 1.0, F), new int[] {13, 13}, false);
    }

    @Test
    void renormalizedTopTwoOverFourRanksWithUnevenTokensEqualsOneProcess() throws Exception {
        check(MoeTesting.renormalized(MoeTesting.config("topk", 8, 2, 0.75, F)), new int[] {9, 3, 7, 5}, false);
    }

    @Test
    void switchWithAllTokensOnRankZeroExpertsTrains() throws Exception {
        // Rank 1's experts get no token and rank 1 sends all its tokens away: zero-length frames.
        Result[] results = check(MoeTesting.config("switch", 4, 1, 2.0, F), new int[] {7, 6}, true);
        RoutingStats stats = results[0].stats();
        assertEquals(0.0, stats.tokensPerExpertRouted()[2] + stats.tokensPerExpertRouted()[3]);
        assertTrue(stats.tokensPerExpert()[0] + stats.tokensPerExpert()[1] > 0);
    }

    @Test
    void expertChoiceOverTwoRanksWithUnevenTokensEqualsOneProcess() throws Exception {
        // Each expert takes its top-C tokens of the global batch, from either rank.
        check(MoeTesting.config("expert_choice", 4, 1, 0.75, F), new int[] {11, 5}, false);
    }

    @Test
    void expertChoiceWithARankWithoutTokensTakesPart() throws Exception {
        check(MoeTesting.config("expert_choice", 4, 1, 1.0, F), new int[] {0, 9}, false);
    }

    @Test
    void sigmoidGatingWithBiasBalancingOverTwoRanksEqualsOneProcess() throws Exception {
        check(MoeTesting.variant(MoeTesting.config("topk", 8, 2, 0.75, F), 0, "sigmoid", "bias", "batch", 1, 1),
                new int[] {10, 6}, false, 0);
    }

    @Test
    void sharedExpertsOverTwoRanksEqualOneProcess() throws Exception {
        check(MoeTesting.variant(MoeTesting.config("topk", 4, 2, 1.0, F), 2, "softmax", "aux_loss", "batch", 1, 1),
                new int[] {7, 9}, false, 0);
    }

    @Test
    void theSequenceWiseBalanceLossOverTwoRanksEqualsOneProcess() throws Exception {
        // Sequences of 4 tokens: rank 0 holds 2 of them, rank 1 holds 3.
        check(MoeTesting.variant(MoeTesting.config("prototype", 8, 2, 1.0, F), 0, "softmax", "aux_loss", "sequence",
                1, 1), new int[] {8, 12}, false, 4);
    }

    @Test
    void droplessOverTwoRanksTakesTheLargestLoadOfTheGlobalBatch() throws Exception {
        Result[] results = check(MoeTesting.config("topk", 4, 2, 0, F), new int[] {5, 14}, false, 0);
        RoutingStats stats = results[0].stats();
        assertEquals(0.0, stats.dropFraction());
        assertEquals((int) Arrays.stream(stats.tokensPerExpertRouted()).max().orElseThrow(), stats.capacity());
    }

    @Test
    void groupLimitedRoutingWithAGroupPerRankEqualsOneProcess() throws Exception {
        Result[] results = check(MoeTesting.variant(MoeTesting.config("topk", 8, 2, 1.0, F), 0, "softmax",
                "aux_loss", "batch", 2, 1), new int[] {9, 9}, false, 0);
        assertEquals(1.0, results[0].stats().destinationsPerToken(), 1e-12, "every token stays on one rank's experts");
    }

    @Test
    void topTwoOnTwoByTwoWithUnevenTokensEqualsOneProcess() throws Exception {
        check(MoeTesting.config("topk", 8, 2, 0.75, F), new int[] {9, 3, 7, 5}, false, 0, 2);
    }

    @Test
    void expertChoiceOnTwoByTwoEqualsOneProcess() throws Exception {
        check(MoeTesting.config("expert_choice", 4, 1, 0.75, F), new int[] {6, 0, 5, 8}, false, 0, 2);
    }

    @Test
    void prototypingWithEveryExpertOnEveryRankEqualsOneProcess() throws Exception {
        // ep = 1: four copies of all experts, no token leaves its rank
        check(MoeTesting.config("prototype", 4, 2, 1.0, F), new int[] {5, 7, 6, 4}, false, 0, 1);
    }

    /**
     * bf16 rows: the outputs stay within bfloat16's rounding of the fp32 outputs (the rows are
     * rounded twice on their way, 2^-8 each), and the token rows cost half the bytes.
     */
    @Test
    void bf16RowsTravelInHalfTheBytesWithinTheirRounding() throws Exception {
        MoeConfig config = MoeTesting.config("topk", 4, 2, 1.0, F);
        int[] tokens = {9, 7};
        JvmDevice device = new JvmDevice(1, false);
        MoeLayer reference = MoeTesting.layer(device, config, D, 7, 1.0);
        Tensor x = MoeTesting.gaussian(device, 11, 1f, 16, D);
        float[] dy = MoeTesting.gaussian(device, 12, 1f, 16, D).data();
        List<List<Sent>> runs = new java.util.ArrayList<>();
        for (boolean bf16 : new boolean[] {false, true}) {
            runs.add(LoopbackRanks.run(2, LIMIT, group -> {
                JvmDevice own = new JvmDevice(1, false);
                ExpertParallel parallel = new ExpertParallel(group, 2, bf16);
                MoeLayer layer = new MoeLayer(config, D, new LayerContext(own, new SplitMix64(99)), 0.02f, 0.02f,
                        parallel);
                copyShard(reference, layer, parallel);
                int from = group.rank() * tokens[0];
                int rows = tokens[group.rank()];
                Result result = run(layer, Arrays.copyOfRange(x.data(), from * D, (from + rows) * D),
                        Arrays.copyOfRange(dy, from * D, (from + rows) * D), own, 0);
                // rows of this rank's kept assignments to the other rank's experts
                DispatchPlan plan = layer.lastPlan();
                long away = 0;
                for (int a = 0; a < plan.choice().length; a++) {
                    away += plan.slot()[a] >= 0 && plan.choice()[a] / 2 != group.rank() ? 1 : 0;
                }
                return new Sent(result, parallel.bytesSent(), away);
            }));
        }
        long rowsOut = runs.get(0).get(0).rowsOut() + runs.get(0).get(1).rowsOut();
        assertTrue(rowsOut > 0, "no row left its rank");
        for (int r = 0; r < 2; r++) {
            Result fp32 = runs.get(0).get(r).result();
            Result bf16 = runs.get(1).get(r).result();
            double scale = Arrays.stream(toDoubles(fp32.y())).map(Math::abs).max().orElseThrow();
            org.moe4j.testing.Close.assertClose("y of rank " + r + ", bf16 against fp32 rows", fp32.y(), bf16.y(),
                    4 * 0x1p-8 * scale, 0);
            assertTrue(!Arrays.equals(fp32.y(), bf16.y()), "rank " + r + ": the bf16 outputs are the fp32 ones");
            // A rank sends its rows out and the rows it got back, forward and backward: 2 x (out + in) x D values.
            long saved = runs.get(0).get(r).bytes() - runs.get(1).get(r).bytes();
            assertEquals(2L * rowsOut * D * (Float.BYTES - Short.BYTES), saved, "bytes saved by rank " + r);
        }
    }

    /** A rank's result, the bytes it sent in the MoE exchanges and its kept rows for the other rank's experts. */
    private record Sent(Result result, long bytes, long rowsOut) {
    }

    private static double[] toDoubles(float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return d;
    }

    @Test
    void aRankWithNoTokensTakesPart() throws Exception {
        check(MoeTesting.config("topk", 4, 2, 1.0, F), new int[] {10, 0}, false);
    }

    @Test
    void expertsNotDivisibleByRanksIsAConfigError() throws Exception {
        List<String> messages = LoopbackRanks.run(2, LIMIT, group -> assertThrows(IllegalArgumentException.class,
                () -> new MoeLayer(MoeTesting.config("topk", 3, 1, 1.0, F), D,
                        new LayerContext(new JvmDevice(1, false), new SplitMix64(1)), 0.02f, 0.02f,
                        new ExpertParallel(group))).getMessage());
        assertTrue(messages.get(0).contains("moe.experts=3") && messages.get(0).contains("world size 2"),
                messages.get(0));
    }

    /** Runs the layer on one process and on {@code tokens.length} ranks and compares everything. */
    private static Result[] check(MoeConfig config, int[] tokens, boolean skewToRankZero) throws Exception {
        return check(config, tokens, skewToRankZero, 0);
    }

    /**
     * @param seqLen the tokens form sequences of this length (0: one sequence per rank), for the
     *               sequence-wise balance loss
     */
    private static Result[] check(MoeConfig config, int[] tokens, boolean skewToRankZero, int seqLen)
            throws Exception {
        return check(config, tokens, skewToRankZero, seqLen, tokens.length);
    }

    /**
     * As {@link #check(MoeConfig, int[], boolean, int)} on the layout {@code W = ep × dp}: each copy
     * of an expert sees its expert group's tokens, so the expert gradients summed over the copies
     * are the single process's.
     */
    private static Result[] check(MoeConfig config, int[] tokens, boolean skewToRankZero, int seqLen, int ep)
            throws Exception {
        int w = tokens.length;
        int n = Arrays.stream(tokens).sum();
        JvmDevice device = new JvmDevice(1, false);
        MoeLayer reference = MoeTesting.layer(device, config, D, 7, 1.0);
        Tensor x = MoeTesting.gaussian(device, 11, 1f, n, D);
        if (skewToRankZero) {
            skew(reference, x, config.experts() / w);
        }
        float[] dy = MoeTesting.gaussian(device, 12, 1f, n, D).data();
        if (reference.balanceBias() != null) {
            SplitMix64 random = new SplitMix64(13);
            float[] bias = reference.balanceBias().data();
            for (int i = 0; i < bias.length; i++) {
                bias[i] = 0.2f * random.nextFloat() - 0.1f;
            }
            reference.balanceBias().toDevice();
        }
        Result single = run(reference, x.data(), dy, device, seqLen);

        Result[] ranks = LoopbackRanks.run(w, LIMIT, group -> {
            JvmDevice own = new JvmDevice(1, false);
            ExpertParallel parallel = new ExpertParallel(group, ep);
            MoeLayer layer = new MoeLayer(config, D, new LayerContext(own, new SplitMix64(99)), 0.02f, 0.02f,
                    parallel);
            copyShard(reference, layer, parallel);
            int from = 0;
            for (int q = 0; q < group.rank(); q++) {
                from += tokens[q];
            }
            int rows = tokens[group.rank()];
            return run(layer, Arrays.copyOfRange(x.data(), from * D, (from + rows) * D),
                    Arrays.copyOfRange(dy, from * D, (from + rows) * D), own, seqLen);
        }).toArray(Result[]::new);

        int from = 0;
        int local = config.experts() / ep;
        // Dense parameters (the router, shared experts): each rank holds its tokens' part of the gradient;
        // experts: each copy its expert group's part.
        Map<String, float[]> denseGrads = new java.util.LinkedHashMap<>();
        Map<String, float[]> expertGrads = new java.util.LinkedHashMap<>();
        for (int r = 0; r < w; r++) {
            int rows = tokens[r];
            close("y of rank " + r, Arrays.copyOfRange(single.y(), from * D, (from + rows) * D), ranks[r].y(), 1e-6);
            close("dx of rank " + r, Arrays.copyOfRange(single.dx(), from * D, (from + rows) * D), ranks[r].dx(), 1e-5);
            for (Map.Entry<String, float[]> g : ranks[r].grads().entrySet()) {
                String key = g.getKey().startsWith("experts.") ? g.getKey() + " of expert rank " + r % ep : g.getKey();
                Map<String, float[]> sums = g.getKey().startsWith("experts.") ? expertGrads : denseGrads;
                float[] sum = sums.computeIfAbsent(key, k -> new float[g.getValue().length]);
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += g.getValue()[i];
                }
            }
            RoutingStats a = single.stats();
            RoutingStats b = ranks[r].stats();
            assertEquals(a.tokens(), b.tokens());
            assertEquals(a.capacity(), b.capacity());
            assertEquals(Arrays.toString(a.tokensPerExpertRouted()), Arrays.toString(b.tokensPerExpertRouted()));
            assertEquals(Arrays.toString(a.tokensPerExpert()), Arrays.toString(b.tokensPerExpert()));
            assertEquals(a.dropFraction(), b.dropFraction(), 1e-12);
            assertEquals(a.routerEntropy(), b.routerEntropy(), 1e-5 * a.routerEntropy());
            assertEquals(a.auxLoss(), b.auxLoss(), 1e-5 * Math.abs(a.auxLoss()));
            assertEquals(a.zLoss(), b.zLoss(), 1e-5 * Math.abs(a.zLoss()));
            assertEquals(a.slotUse(), b.slotUse(), 1e-12);
            assertEquals(a.destinationsPerToken(), b.destinationsPerToken(), 1e-12);
            from += rows;
        }
        assertTrue(denseGrads.containsKey("router.weight"));
        denseGrads.forEach((name, sum) -> close(name + " grad summed over ranks", single.grads().get(name), sum, 1e-5));
        for (int e = 0; e < ep; e++) {
            for (String name : ranks[e].grads().keySet()) {
                if (name.startsWith("experts.")) {
                    float[] all = single.grads().get(name);
                    int size = all.length / config.experts();
                    close(name + " grad of expert rank " + e + " summed over its copies",
                            Arrays.copyOfRange(all, e * local * size, (e + 1) * local * size),
                            expertGrads.get(name + " of expert rank " + e), 1e-5);
                }
            }
        }
        return ranks;
    }

    /** Forward, then backward of {@code Σ y·dy} plus the auxiliary losses; {@code x} as (B,T,D) when seqLen > 0. */
    private static Result run(MoeLayer layer, float[] xs, float[] dy, JvmDevice device, int seqLen) {
        int n = xs.length / D;
        Tensor x = seqLen > 0 ? Tensor.of(device, true, xs, n / seqLen, seqLen, D) : Tensor.of(device, true, xs, n, D);
        Tape tape = Tape.training(device);
        Tensor y = layer.forward(tape, x);
        float[] yv = y.toHost().data().clone();
        tape.backward(y, dy);
        Map<String, float[]> grads = new java.util.LinkedHashMap<>();
        MoeTesting.parameters(layer).forEach((name, p) -> grads.put(name, p.grad().clone()));
        return new Result(yv, x.grad().clone(), grads, layer.lastStats());
    }

    /** Copies the router, the shared experts, the balance bias and this rank's slice of every expert parameter. */
    private static void copyShard(MoeLayer reference, MoeLayer shard, ExpertParallel parallel) {
        Map<String, Tensor> from = MoeTesting.parameters(reference);
        int e = reference.config().experts();
        MoeTesting.parameters(shard).forEach((name, p) -> {
            float[] all = from.get(name).data();
            int offset = name.startsWith("experts.") ? parallel.firstExpert(e) * (all.length / e) : 0;
            System.arraycopy(all, offset, p.data(), 0, p.size());
        });
        if (reference.balanceBias() != null) {
            System.arraycopy(reference.balanceBias().data(), 0, shard.balanceBias().data(), 0, e);
            shard.balanceBias().toDevice();
        }
    }

    /** A constant input feature that the router weighs strongly against the experts past {@code keep}. */
    private static void skew(MoeLayer layer, Tensor x, int keep) {
        int e = layer.config().experts();
        float[] xs = x.data();
        for (int t = 0; t < xs.length / D; t++) {
            xs[t * D] = 4f;
        }
        float[] wr = MoeTesting.parameters(layer).get("router.weight").data();
        for (int k = keep; k < e; k++) {
            wr[k] = -20f;
        }
    }

    private static void close(String what, float[] expected, float[] actual, double rtol) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-6 + rtol * Math.abs(expected[i]);
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + ": index " + i + " expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
