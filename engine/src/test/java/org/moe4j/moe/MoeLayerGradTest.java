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

    private static void check(String name, MoeConfig config, long seed, boolean expectDrops) {
        MoeLayer layer = MoeTesting.layer(device, config, D, seed, 2.0);
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
