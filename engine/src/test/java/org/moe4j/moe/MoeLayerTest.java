package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.moe4j.testing.Close.assertClose;

import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.Router;
import org.moe4j.nn.DenseMlp;
import org.moe4j.nn.LayerContext;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Invariants of the MoE layer: what it must equal in special cases, and what routing guarantees. */
class MoeLayerTest {
    private static final int D = 6;
    private static final int F = 5;
    private static JvmDevice device;

    @BeforeAll
    static void open() {
        device = new JvmDevice(2, false);
        GemmSimd.registerOn(device);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    @Test
    void prototypeWithOneGroupEqualsSwitchBitForBit() {
        Tensor x = MoeTesting.gaussian(device, 1, 1f, 16, D);
        MoeLayer prototype = MoeTesting.layer(device, MoeTesting.config("prototype", 4, 1, 1.0, F), D, 5, 1.0);
        MoeLayer switchLayer = MoeTesting.layer(device, MoeTesting.config("switch", 4, 3, 1.0, F), D, 5, 1.0);
        float[] weights = ones(16 * D);
        Run a = run(prototype, x, weights);
        Run b = run(switchLayer, x, weights);
        assertArrayEquals(a.output, b.output, "output");
        assertArrayEquals(a.inputGrad, b.inputGrad, "input gradient");
        for (String name : a.grads.keySet()) {
            assertArrayEquals(a.grads.get(name), b.grads.get(name), name + " gradient");
        }
        assertEquals(a.stats.auxLoss(), b.stats.auxLoss());
        assertEquals(a.stats.zLoss(), b.stats.zLoss());
        assertTrue(a.stats.dropFraction() > 0, "the case should drop tokens");

        // Both against the definition, computed here: top-1 of the softmax, C = ceil(N/E·factor),
        // each expert keeps its first C tokens in token order.
        int capacity = (int) Math.ceil(16 / 4.0 * 1.0);
        for (MoeLayer layer : new MoeLayer[] {prototype, switchLayer}) {
            DispatchPlan plan = planOf(layer, x, Tape.training(device));
            assertEquals(capacity, plan.capacity());
            double[][] p = probabilities(layer, x.data(), 16, 4);
            int[] seen = new int[4];
            for (int t = 0; t < 16; t++) {
                int best = argmax(p[t]);
                assertEquals(best, plan.choice()[t], layer.config().router() + ": expert of token " + t);
                int expected = seen[best] < capacity ? seen[best] : -1;
                assertEquals(expected, plan.slot()[t], layer.config().router() + ": slot of token " + t);
                seen[best]++;
            }
        }
    }

    @Test
    void tiesGoToTheLowerExpertAndThenTheEarlierToken() {
        for (String router : new String[] {"switch", "expert_choice"}) {
            MoeLayer layer = MoeTesting.layer(device, MoeTesting.config(router, 4, 1, 1.0, F), D, 5, 1.0);
            Tensor wr = MoeTesting.parameters(layer).get("router.weight");
            Arrays.fill(wr.data(), 0f); // every probability 1/4: every choice is a tie
            wr.toDevice();
            DispatchPlan plan = planOf(layer, MoeTesting.gaussian(device, 3, 1f, 10, D), Tape.inference(device));
            int capacity = (int) Math.ceil(10 / 4.0 * 1.0);
            for (int t = 0; t < 10; t++) {
                if (router.equals("switch")) {
                    assertEquals(0, plan.choice()[t], "token " + t + " goes to the lowest expert");
                    assertEquals(t < capacity ? t : -1, plan.slot()[t], "slot of token " + t);
                } else {
                    for (int e = 0; e < 4; e++) {
                        assertEquals(t < capacity ? t : -1, plan.slot()[t * 4 + e], "expert " + e + ", token " + t);
                    }
                }
            }
        }
    }

    @Test
    void largeCapacityDropsNothingAndEqualsTheDenseMixture() {
        for (String router : new String[] {"topk", "prototype"}) {
            for (int k : new int[] {1, 2}) {
                MoeConfig config = MoeTesting.config(router, 4, k, 100.0, F);
                MoeLayer layer = MoeTesting.layer(device, config, D, 7 + k, 1.0);
                Tensor x = MoeTesting.gaussian(device, 3, 1f, 3, 7, D);
                float[] y = layer.forward(Tape.training(device), x).toHost().data();
                assertEquals(0.0, layer.lastStats().dropFraction(), router + " k=" + k + " drop fraction");
                double[] reference = denseMixture(layer, x.data(), 21, router.equals("prototype") ? k : 1,
                        router.equals("prototype") ? 1 : k);
                assertClose(router + " k=" + k, reference, y, 1e-5, 1e-4);
            }
        }
    }

    @Test
    void oneExpertWithHugeCapacityEqualsTheDenseMlp() {
        MoeConfig config = MoeTesting.config("topk", 1, 1, 1e6, F);
        MoeLayer layer = MoeTesting.layer(device, config, D, 9, 1.0);
        DenseMlp dense = new DenseMlp(new LayerContext(device, new SplitMix64(1)), D, F, 0.02f, 0.02f);
        Map<String, Tensor> moe = MoeTesting.parameters(layer);
        Map<String, Tensor> mlp = new LinkedHashMap<>();
        dense.collectParameters("", mlp);
        for (String name : mlp.keySet()) {
            float[] from = moe.get("experts." + name).data();
            System.arraycopy(from, 0, mlp.get(name).data(), 0, from.length);
        }
        Tensor x = MoeTesting.gaussian(device, 4, 1f, 2, 9, D);
        float[] expected = dense.forward(Tape.inference(device), x).toHost().data();
        float[] actual = layer.forward(Tape.inference(device), x).toHost().data();
        assertArrayEquals(expected, actual, 1e-6f);
        assertEquals(0.0, layer.lastStats().dropFraction());
    }

    @Test
    void anExpertThatGetsNoTokensWorksForwardAndBackward() {
        MoeConfig config = MoeTesting.config("topk", 4, 2, 2.0, F);
        MoeLayer layer = MoeTesting.layer(device, config, D, 11, 1.0);
        Tensor x = MoeTesting.gaussian(device, 5, 1f, 12, D);
        // Input feature 0 is always 1 and pushes expert 3's logit far down: it is never chosen.
        float[] xs = x.data();
        for (int t = 0; t < 12; t++) {
            xs[t * D] = 1f;
        }
        x.toDevice();
        Tensor router = MoeTesting.parameters(layer).get("router.weight");
        for (int i = 0; i < D; i++) {
            router.data()[i * 4 + 3] = i == 0 ? -30f : 0f;
        }
        router.toDevice();
        layer.forward(Tape.trainingForward(device), x);
        assertEquals(0.0, layer.lastStats().tokensPerExpertRouted()[3]);
        Map<String, Tensor> p = MoeTesting.parameters(layer);
        new GradCheck(device).step(1e-3).check("zero-token expert", MoeTesting.stableRouting(layer, x),
                x, p.get("router.weight"), p.get("experts.up.weight"), p.get("experts.up.bias"),
                p.get("experts.down.weight"), p.get("experts.down.bias"));
        float[] downGrad = p.get("experts.down.weight").grad();
        for (int i = 3 * F * D; i < 4 * F * D; i++) {
            assertEquals(0f, downGrad[i], "expert 3 gets no gradient");
        }
    }

    @Test
    void everyTokenGetsExactlyKDistinctExpertsMinusDropsInPriorityOrder() {
        for (String router : new String[] {"topk", "prototype"}) {
            MoeConfig config = MoeTesting.config(router, 6, 2, 0.6, F);
            MoeLayer layer = MoeTesting.layer(device, config, D, 13, 1.0);
            int n = 40;
            layer.forward(Tape.training(device), MoeTesting.gaussian(device, 6, 1f, n, D));
            DispatchPlan plan = layer.lastPlan();
            assertEquals(2, plan.perToken());
            // C = ceil(k·N/E·factor) for top-k, ceil(N/(E/k)·factor) per prototype: both ceil(8.0) here.
            int capacity = (int) Math.ceil(router.equals("topk") ? 2 * n / 6.0 * 0.6 : n / 3.0 * 0.6);
            assertEquals(capacity, plan.capacity());
            int[] keptPerExpert = new int[6];
            int dropped = 0;
            for (int t = 0; t < n; t++) {
                Set<Integer> experts = new HashSet<>();
                for (int j = 0; j < 2; j++) {
                    int e = plan.choice()[t * 2 + j];
                    assertTrue(experts.add(e), router + ": token " + t + " chose expert " + e + " twice");
                    if (router.equals("prototype")) {
                        assertEquals(j, e / 3, "prototype choice j lies in group j");
                    }
                    if (plan.slot()[t * 2 + j] >= 0) {
                        keptPerExpert[e]++;
                    } else {
                        dropped++;
                    }
                }
            }
            assertTrue(dropped > 0, router + ": the case should drop assignments");
            for (int e = 0; e < 6; e++) {
                assertEquals(Math.min(plan.chosen()[e], capacity), keptPerExpert[e], "kept by expert " + e);
                assertEquals(keptPerExpert[e], plan.kept()[e]);
                assertEquals(keptPerExpert[e], layer.lastStats().tokensPerExpert()[e]);
            }
            // A kept second choice means every first choice of that expert was kept; slots follow that order.
            for (int e = 0; e < 6; e++) {
                int next = 0;
                for (int j = 0; j < 2; j++) {
                    for (int t = 0; t < n; t++) {
                        if (plan.choice()[t * 2 + j] == e) {
                            int expected = next < capacity ? next : -1;
                            assertEquals(expected, plan.slot()[t * 2 + j], "slot of token " + t + " rank " + j);
                            next++;
                        }
                    }
                }
            }
            assertEquals((double) dropped / (2 * n), layer.lastStats().dropFraction(), 1e-12);
        }
    }

    @Test
    void expertChoiceFillsEveryExpertWithItsMostProbableTokens() {
        MoeConfig config = MoeTesting.config("expert_choice", 4, 1, 0.75, F);
        MoeLayer layer = MoeTesting.layer(device, config, D, 17, 1.0);
        int n = 20;
        layer.forward(Tape.training(device), MoeTesting.gaussian(device, 8, 1f, n, D));
        DispatchPlan plan = layer.lastPlan();
        int c = (int) Math.ceil(n * 0.75 / 4);
        assertEquals(c, plan.capacity());
        double[][] p = probabilities(layer, MoeTesting.gaussian(device, 8, 1f, n, D).data(), n, 4);
        for (int e = 0; e < 4; e++) {
            int expert = e;
            Integer[] order = new Integer[n];
            for (int t = 0; t < n; t++) {
                order[t] = t;
            }
            Arrays.sort(order, (u, v) -> p[u][expert] != p[v][expert] ? Double.compare(p[v][expert], p[u][expert]) : u - v);
            assertTrue(p[order[c - 1]][e] - p[order[c]][e] > 1e-6, "the case must not hinge on float rounding");
            for (int rank = 0; rank < n; rank++) {
                int t = order[rank];
                assertEquals(rank < c ? rank : -1, plan.slot()[t * 4 + e], "expert " + e + ": slot of token " + t
                        + ", its " + rank + "-th most probable");
            }
            assertEquals(c, layer.lastStats().tokensPerExpert()[e]);
        }
    }

    @Test
    void dispatchThenCombineWithUnitWeightsRoundTrips() {
        MoeConfig config = MoeTesting.config("topk", 5, 2, 0.7, F);
        MoeLayer layer = MoeTesting.layer(device, config, D, 19, 1.0);
        int n = 15;
        Tensor x = MoeTesting.gaussian(device, 9, 1f, n, D);
        layer.forward(Tape.inference(device), x);
        DispatchPlan plan = layer.lastPlan();
        Tape tape = Tape.inference(device);
        Tensor buffer = DispatchOps.dispatch(tape, x, plan);
        Tensor ones = Tensor.of(device, false, ones(n * 2), n, 2);
        float[] back = DispatchOps.combine(tape, buffer, ones, plan).toHost().data();
        float[] expected = new float[n * D];
        for (int t = 0; t < n; t++) {
            int kept = (plan.slot()[t * 2] >= 0 ? 1 : 0) + (plan.slot()[t * 2 + 1] >= 0 ? 1 : 0);
            for (int i = 0; i < D; i++) {
                expected[t * D + i] = kept * x.data()[t * D + i];
            }
        }
        assertArrayEquals(expected, back, "combine(dispatch(x)) = x · kept assignments");
        // Unused slots are zero.
        float[] buf = buffer.data();
        for (int s = 0; s < plan.slotAssign().length; s++) {
            if (plan.slotAssign()[s] < 0) {
                for (int i = 0; i < D; i++) {
                    assertEquals(0f, buf[s * D + i], "unused slot " + s);
                }
            }
        }
    }

    @Test
    void dispatchAndCombineGradients() {
        MoeConfig config = MoeTesting.config("topk", 4, 2, 0.8, F);
        MoeLayer layer = MoeTesting.layer(device, config, D, 21, 1.0);
        int n = 10;
        Tensor x = MoeTesting.gaussian(device, 10, 1f, n, D);
        layer.forward(Tape.inference(device), x);
        DispatchPlan plan = layer.lastPlan();
        Tensor out = MoeTesting.gaussian(device, 11, 1f, 4, plan.capacity(), D);
        Tensor weights = MoeTesting.gaussian(device, 12, 1f, n, 2);
        GradCheck check = new GradCheck(device);
        check.check("dispatch", tape -> DispatchOps.dispatch(tape, x, plan), x);
        check.check("combine", tape -> DispatchOps.combine(tape, out, weights, plan), out, weights);
    }

    @Test
    void evaluationUsesTheEvalCapacityFactorAndNoJitter() {
        MoeConfig config = new MoeConfig("topk", 4, 1, 0.5, 4.0, false, 0.01, 0.001, 0.3, "gelu", F, 1);
        MoeLayer layer = MoeTesting.layer(device, config, D, 23, 1.0);
        Tensor x = MoeTesting.gaussian(device, 13, 1f, 16, D);
        layer.forward(Tape.training(device), x);
        assertEquals(2, layer.lastStats().capacity()); // ceil(1 · 16/4 · 0.5)
        float[] first = layer.forward(Tape.inference(device), x).toHost().data().clone();
        assertEquals(16, layer.lastStats().capacity()); // ceil(16) capped at N
        float[] second = layer.forward(Tape.inference(device), x).toHost().data();
        assertArrayEquals(first, second, "no jitter in evaluation");
        Tape a = Tape.trainingForward(device);
        float[] jittered = layer.forward(a, x).toHost().data().clone();
        float[] again = layer.forward(Tape.trainingForward(device), x).toHost().data();
        assertNotEquals(Arrays.toString(jittered), Arrays.toString(again), "jitter draws new noise each pass");
        assertEquals(2, a.losses().size());
        assertEquals("aux_loss", a.losses().get(0).name());
        assertEquals("z_loss", a.losses().get(1).name());
    }

    @Test
    void jitterScalesOnlyTheRouterInputByFactorsThatSpanTheirRange() {
        double j = 0.3;
        MoeConfig config = new MoeConfig("topk", 4, 2, 2.0, 2.0, false, 0.01, 0.001, j,
                RecordingExpert.class.getName(), F, 1);
        MoeLayer layer = MoeTesting.layer(device, config, D, 31, 1.0);
        int n = 16;
        Tensor x = MoeTesting.gaussian(device, 14, 1f, n, D);
        layer.forward(Tape.trainingForward(device), x);
        DispatchPlan plan = layer.lastPlan();
        device.copyToHost(plan.slotAssign());
        int used = 0;
        for (int s = 0; s < plan.slotAssign().length; s++) {
            int a = plan.slotAssign()[s];
            if (a >= 0) {
                used++;
                float[] row = Arrays.copyOfRange(RecordingExpert.lastInput, s * D, (s + 1) * D);
                int t = a / plan.perToken();
                assertArrayEquals(Arrays.copyOfRange(x.data(), t * D, (t + 1) * D), row,
                        "slot " + s + " holds token " + t + " as it came, not jittered");
            }
        }
        assertEquals(2 * n, used, "every assignment kept at this capacity");

        float[] u = layer.jitterNoise().factors(device, 0, 1000, 1000).data();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : u) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min >= 1 - j && max <= 1 + j, "factors in [" + min + ", " + max + "], outside [1-j, 1+j]");
        assertTrue(min < 1 - 0.95 * j && max > 1 + 0.95 * j, "factors in [" + min + ", " + max + "] do not span it");
    }

    @Test
    void jitterRowsOfARankAreTheOneProcessRowsAndEveryRankEndsInTheSameState() {
        JitterNoise whole = new JitterNoise(new SplitMix64(8), 0.2, D);
        JitterNoise rank1 = new JitterNoise(new SplitMix64(8), 0.2, D);
        float[] all = whole.factors(device, 0, 10, 10).data();
        float[] mine = rank1.factors(device, 3, 4, 10).data();
        assertArrayEquals(Arrays.copyOfRange(all, 3 * D, 7 * D), mine);
        assertEquals(whole.state(), rank1.state());
    }

    @Test
    void theBalanceBiasSelectsExpertsWithoutWeighingThemAndMovesTowardEvenLoads() {
        MoeConfig config = MoeTesting.variant(MoeTesting.config("topk", 4, 1, 4.0, F), 0, "softmax", "bias", "batch",
                1, 1);
        MoeLayer layer = MoeTesting.layer(device, config, D, 41, 1.0);
        int n = 12;
        Tensor x = MoeTesting.gaussian(device, 42, 1f, n, D);
        float[] unbiased = layer.forward(Tape.training(device), x).toHost().data().clone();
        layer.balanceBias().data()[3] = 10f; // far above any probability: every token picks expert 3
        layer.balanceBias().toDevice();
        DispatchPlan plan = planOf(layer, x, Tape.training(device));
        double[][] p = probabilities(layer, x.data(), n, 4);
        float[] y = layer.forward(Tape.training(device), x).toHost().data();
        for (int t = 0; t < n; t++) {
            assertEquals(3, plan.choice()[t], "token " + t + " follows the bias");
        }
        // The output is expert 3's times p[t][3], the probability without the bias.
        assertNotEquals(Arrays.toString(unbiased), Arrays.toString(y));
        float[] weights = GateOps.combineWeights(Tape.inference(device), Tensor.of(device, false,
                toFloats(p), n, 4), plan, Router.WEIGHTS_RAW).toHost().data();
        for (int t = 0; t < n; t++) {
            assertEquals(p[t][3], weights[t], 1e-6, "weight of token " + t);
        }
        // After the step: every token chose expert 3, so its bias falls by γ and the others' rise.
        float before = layer.balanceBias().toHost().data()[0];
        layer.updateBalanceBias();
        float[] bias = layer.balanceBias().toHost().data();
        float rate = (float) config.biasUpdateRate();
        assertArrayEquals(new float[] {before + rate, rate, rate, 10f - rate}, bias, 1e-7f);
        assertArrayEquals(new double[] {0, 0, 0, 10}, layer.lastStats().balanceBias(), 1e-7, "the bias of the pass");
    }

    @Test
    void sharedExpertsAddTheDenseMlpOfEveryTokenToTheRoutedOutput() {
        MoeConfig routedOnly = MoeTesting.config("topk", 4, 2, 1.0, F);
        MoeConfig withShared = MoeTesting.variant(routedOnly, 1, "softmax", "aux_loss", "batch", 1, 1);
        MoeLayer layer = MoeTesting.layer(device, withShared, D, 43, 1.0);
        MoeLayer routed = MoeTesting.layer(device, routedOnly, D, 43, 1.0);
        Map<String, Tensor> all = MoeTesting.parameters(layer);
        MoeTesting.parameters(routed).forEach((name, p) -> {
            System.arraycopy(all.get(name).data(), 0, p.data(), 0, p.size());
            p.toDevice();
        });
        DenseMlp dense = new DenseMlp(new LayerContext(device, new SplitMix64(1)), D, F, 0.02f, 0.02f);
        Map<String, Tensor> mlp = new LinkedHashMap<>();
        dense.collectParameters("", mlp);
        mlp.forEach((name, p) -> {
            System.arraycopy(all.get("shared." + name).data(), 0, p.data(), 0, p.size());
            p.toDevice();
        });
        Tensor x = MoeTesting.gaussian(device, 44, 1f, 10, D);
        float[] y = layer.forward(Tape.inference(device), x).toHost().data();
        float[] r = routed.forward(Tape.inference(device), x).toHost().data();
        float[] m = dense.forward(Tape.inference(device), x).toHost().data();
        double[] expected = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            expected[i] = (double) r[i] + m[i];
        }
        assertClose("routed + shared", expected, y, 1e-6, 1e-5);
    }

    @Test
    void droplessCapacityIsTheLargestLoadAndDropsNothing() {
        MoeLayer layer = MoeTesting.layer(device, MoeTesting.config("topk", 4, 2, 0, F), D, 45, 3.0);
        DispatchPlan plan = planOf(layer, MoeTesting.gaussian(device, 46, 1f, 20, D), Tape.training(device));
        device.copyToHost(plan.chosen());
        int largest = Arrays.stream(plan.chosen()).max().orElseThrow();
        assertEquals(largest, plan.capacity());
        RoutingStats stats = layer.lastStats();
        assertEquals(0.0, stats.dropFraction());
        assertTrue(stats.dropless(), "the metrics say the drop rate is 0 by construction");
        assertEquals(true, stats.toMap().get("dropless"));
        assertTrue(stats.summary().startsWith("dropless cv "), stats.summary());
        assertEquals(40.0 / (4 * largest), stats.slotUse(), 1e-12, "slots used over slots allocated");
        assertTrue(stats.slotUse() < 1, "uneven loads leave padding");
    }

    @Test
    void groupLimitedRoutingKeepsEachTokenWithinItsBestGroups() {
        MoeConfig config = MoeTesting.variant(MoeTesting.config("topk", 8, 3, 4.0, F), 0, "softmax", "aux_loss",
                "batch", 4, 2);
        MoeLayer layer = MoeTesting.layer(device, config, D, 47, 2.0);
        int n = 24;
        Tensor x = MoeTesting.gaussian(device, 48, 1f, n, D);
        DispatchPlan plan = planOf(layer, x, Tape.training(device));
        double[][] p = probabilities(layer, x.data(), n, 8);
        for (int t = 0; t < n; t++) {
            // The two groups (of two experts) with the best experts, ties to the lower group.
            double[] best = new double[4];
            for (int e = 0; e < 8; e++) {
                best[e / 2] = Math.max(best[e / 2], p[t][e]);
            }
            Integer[] groups = {0, 1, 2, 3};
            double[] b = best;
            Arrays.sort(groups, (g, h) -> b[g] != b[h] ? Double.compare(b[h], b[g]) : g - h);
            Set<Integer> allowed = Set.of(groups[0], groups[1]);
            double previous = Double.POSITIVE_INFINITY;
            for (int r = 0; r < 3; r++) {
                int e = plan.choice()[t * 3 + r];
                assertTrue(allowed.contains(e / 2), "token " + t + " chose expert " + e + " outside groups " + allowed);
                assertTrue(p[t][e] <= previous, "choices in decreasing order");
                previous = p[t][e];
            }
        }
        assertTrue(layer.lastStats().destinationsPerToken() <= 2 && layer.lastStats().destinationsPerToken() > 1,
                "destinations per token " + layer.lastStats().destinationsPerToken());
    }

    @Test
    void sigmoidWeightsAreTheChosenScoresOverTheirSum() {
        MoeConfig config = MoeTesting.variant(MoeTesting.config("topk", 4, 2, 4.0, F), 0, "sigmoid", "aux_loss",
                "batch", 1, 1);
        MoeLayer layer = MoeTesting.layer(device, config, D, 49, 1.0);
        int n = 10;
        Tensor x = MoeTesting.gaussian(device, 50, 1f, n, D);
        DispatchPlan plan = planOf(layer, x, Tape.training(device));
        float[] wr = MoeTesting.parameters(layer).get("router.weight").data();
        Tensor scores = Tensor.of(device, false, sigmoidScores(x.data(), wr, n, 4), n, 4);
        float[] w = GateOps.combineWeights(Tape.inference(device), scores, plan, Router.WEIGHTS_OVER_CHOSEN).toHost()
                .data();
        for (int t = 0; t < n; t++) {
            float[] s = Arrays.copyOfRange(scores.data(), t * 4, t * 4 + 4);
            int a = plan.choice()[t * 2];
            int b = plan.choice()[t * 2 + 1];
            assertEquals(s[a] / (s[a] + s[b]), w[t * 2], 1e-6, "token " + t + " first weight");
            assertEquals(1.0, w[t * 2] + w[t * 2 + 1], 1e-6, "token " + t + " weights sum to 1");
        }
    }

    private static float[] sigmoidScores(float[] x, float[] wr, int n, int e) {
        float[] s = new float[n * e];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < e; j++) {
                double h = 0;
                for (int i = 0; i < D; i++) {
                    h += x[t * D + i] * (double) wr[i * e + j];
                }
                s[t * e + j] = (float) (1 / (1 + Math.exp(-h)));
            }
        }
        return s;
    }

    private static float[] toFloats(double[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int t = 0; t < rows.length; t++) {
            for (int j = 0; j < rows[t].length; j++) {
                out[t * rows[t].length + j] = (float) rows[t][j];
            }
        }
        return out;
    }

    private record Run(float[] output, float[] inputGrad, Map<String, float[]> grads, RoutingStats stats) {
    }

    private static Run run(MoeLayer layer, Tensor x, float[] outputGrad) {
        x.zeroGrad();
        Map<String, Tensor> parameters = MoeTesting.parameters(layer);
        parameters.values().forEach(Tensor::zeroGrad);
        Tape tape = Tape.training(device);
        Tensor y = layer.forward(tape, x);
        float[] out = y.toHost().data().clone();
        tape.backward(y, outputGrad);
        Map<String, float[]> grads = new LinkedHashMap<>();
        parameters.forEach((name, p) -> grads.put(name, p.grad().clone()));
        return new Run(out, x.grad().clone(), grads, layer.lastStats());
    }

    /**
     * {@code Σ over chosen e of p_e · expert_e(x)} in double, straight from the definition: softmax
     * per group, top-{@code perGroup} in each group, no capacity.
     */
    private static double[] denseMixture(MoeLayer layer, float[] x, int n, int groups, int perGroup) {
        Map<String, Tensor> p = MoeTesting.parameters(layer);
        float[] wr = p.get("router.weight").data();
        float[] w1 = p.get("experts.up.weight").data();
        float[] b1 = p.get("experts.up.bias").data();
        float[] w2 = p.get("experts.down.weight").data();
        float[] b2 = p.get("experts.down.bias").data();
        int e = 4;
        int size = e / groups;
        double[] y = new double[n * D];
        for (int t = 0; t < n; t++) {
            double[] logits = new double[e];
            for (int j = 0; j < e; j++) {
                for (int i = 0; i < D; i++) {
                    logits[j] += x[t * D + i] * (double) wr[i * e + j];
                }
            }
            for (int g = 0; g < groups; g++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = g * size; j < (g + 1) * size; j++) {
                    max = Math.max(max, logits[j]);
                }
                double[] probs = new double[size];
                double sum = 0;
                for (int j = 0; j < size; j++) {
                    probs[j] = Math.exp(logits[g * size + j] - max);
                    sum += probs[j];
                }
                Integer[] order = new Integer[size];
                for (int j = 0; j < size; j++) {
                    probs[j] /= sum;
                    order[j] = j;
                }
                Arrays.sort(order, (a, b) -> probs[b] != probs[a] ? Double.compare(probs[b], probs[a]) : a - b);
                for (int r = 0; r < perGroup; r++) {
                    int ex = g * size + order[r];
                    double[] out = expert(x, t, ex, w1, b1, w2, b2);
                    for (int i = 0; i < D; i++) {
                        y[t * D + i] += probs[order[r]] * out[i];
                    }
                }
            }
        }
        return y;
    }

    private static double[] expert(float[] x, int t, int ex, float[] w1, float[] b1, float[] w2, float[] b2) {
        double[] h = new double[F];
        for (int f = 0; f < F; f++) {
            double s = b1[ex * F + f];
            for (int i = 0; i < D; i++) {
                s += x[t * D + i] * (double) w1[(ex * D + i) * F + f];
            }
            h[f] = 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s * s * s)));
        }
        double[] out = new double[D];
        for (int i = 0; i < D; i++) {
            double s = b2[ex * D + i];
            for (int f = 0; f < F; f++) {
                s += h[f] * w2[(ex * F + f) * D + i];
            }
            out[i] = s;
        }
        return out;
    }

    private static DispatchPlan planOf(MoeLayer layer, Tensor x, Tape tape) {
        layer.forward(tape, x);
        DispatchPlan plan = layer.lastPlan();
        device.copyToHost(plan.choice());
        device.copyToHost(plan.slot());
        return plan;
    }

    /** {@code softmax(x·Wr)} per token in double, one group over all experts. */
    private static double[][] probabilities(MoeLayer layer, float[] x, int n, int e) {
        float[] wr = MoeTesting.parameters(layer).get("router.weight").toHost().data();
        double[][] p = new double[n][e];
        for (int t = 0; t < n; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < e; j++) {
                for (int i = 0; i < D; i++) {
                    p[t][j] += x[t * D + i] * (double) wr[i * e + j];
                }
                max = Math.max(max, p[t][j]);
            }
            double sum = 0;
            for (int j = 0; j < e; j++) {
                p[t][j] = Math.exp(p[t][j] - max);
                sum += p[t][j];
            }
            for (int j = 0; j < e; j++) {
                p[t][j] /= sum;
            }
        }
        return p;
    }

    /** The index of the largest value, the lowest one among equals. */
    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            best = values[i] > values[best] ? i : best;
        }
        return best;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

}
