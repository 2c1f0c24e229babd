package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * Finite-difference checks of the whole layer, aux and z losses included (coefficients 0.5 and
 * 0.05), for every router, with respect to the input, the router and every expert weight. Capacity
 * is small enough to drop assignments; the router weights are large so that probabilities are far
 * apart, and every evaluation is checked to route exactly like the first.
 */
class MoeLayerGradTest {
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
    void top1() {
        check("top-1", MoeTesting.config("topk", 4, 1, 1.0, F), 11, true);
    }

    @Test
    void top2() {
        check("top-2", MoeTesting.config("topk", 4, 2, 0.8, F), 12, true);
    }

    @Test
    void top2Renormalized() {
        check("top-2 renormalized", MoeTesting.renormalized(MoeTesting.config("topk", 4, 2, 0.8, F)), 13, true);
    }

    @Test
    void prototype() {
        check("2 top-1 prototype", MoeTesting.config("prototype", 4, 2, 0.8, F), 14, true);
    }

    @Test
    void expertChoice() {
        check("expert choice", MoeTesting.config("expert_choice", 4, 1, 0.5, F), 15, true);
    }

    @Test
    void swigluExperts() {
        check("swiglu top-2", MoeTesting.withExpert(MoeTesting.config("topk", 4, 2, 0.8, F), "swiglu"), 16, true);
    }

    @Test
    void sigmoidGateWithWeightsNormalisedOverTheChosen() {
        check("sigmoid top-2", MoeTesting.variant(MoeTesting.config("topk", 4, 2, 0.8, F), 0, "sigmoid", "aux_loss",
                "batch", 1, 1), 17, true);
    }

    @Test
    void sharedExperts() {
        check("top-2 and 2 shared experts", MoeTesting.variant(MoeTesting.config("topk", 4, 2, 0.8, F), 2, "softmax",
                "aux_loss", "batch", 1, 1), 18, true);
    }

    @Test
    void sequenceWiseBalanceLoss() {
        check("top-2, sequence-wise balance loss", MoeTesting.variant(MoeTesting.config("topk", 4, 2, 0.8, F), 0,
                "softmax", "aux_loss", "sequence", 1, 1), 19, true);
    }

    @Test
    void droplessRouting() {
        check("dropless top-2", MoeTesting.config("topk", 4, 2, 0, F), 20, false);
    }

    @Test
    void groupLimitedRouting() {
        check("top-2 within the best of 2 groups", MoeTesting.variant(MoeTesting.config("topk", 8, 2, 0.8, F), 0,
                "softmax", "aux_loss", "batch", 4, 2), 21, true);
    }

    @Test
    void biasBalancingSelectsWithTheBiasAndWeighsWithout() {
        MoeConfig config = MoeTesting.variant(MoeTesting.config("topk", 4, 2, 0.8, F), 0, "sigmoid", "bias",
                "batch", 1, 1);
        MoeLayer layer = MoeTesting.layer(device, config, D, 22, 2.0);
        float[] bias = layer.balanceBias().data();
        bias[0] = 0.3f;
        bias[3] = -0.25f;
        layer.balanceBias().toDevice();
        check("sigmoid top-2 with a balance bias", layer, 22, true);
    }

    private static void check(String name, MoeConfig config, long seed, boolean expectDrops) {
        check(name, MoeTesting.layer(device, config, D, seed, 2.0), seed, expectDrops);
    }

    private static void check(String name, MoeLayer layer, long seed, boolean expectDrops) {
        Tensor x = MoeTesting.gaussian(device, seed + 100, 1f, 2, 5, D);
        layer.forward(Tape.trainingForward(device), x);
        if (expectDrops) {
            assertTrue(layer.lastStats().dropFraction() > 0, name + ": the shape should drop some assignments");
        }
        Map<String, Tensor> parameters = MoeTesting.parameters(layer);
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(x);
        inputs.addAll(parameters.values());
        new GradCheck(device).step(1e-3).tolerance(2e-3, 2e-2)
                .check(name, MoeTesting.stableRouting(layer, x), inputs.toArray(Tensor[]::new));
    }
}
