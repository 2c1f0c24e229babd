package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.moe4j.kernels.Device;
import org.moe4j.nn.LayerContext;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Seeded MoE layers and inputs for the tests, and a guard that routing does not change. */
final class MoeTesting {
    private MoeTesting() {
    }

    /** A config with the given router, experts, k and capacity factor; GELU experts of hidden width {@code f}. */
    static MoeConfig config(String router, int experts, int k, double capacityFactor, int f) {
        return new MoeConfig(router, experts, k, capacityFactor, capacityFactor, false, 0.5, 0.05, 0.0, "gelu", f, 1);
    }

    static MoeConfig withExpert(MoeConfig c, String expert) {
        return new MoeConfig(c.router(), c.experts(), c.k(), c.capacityFactor(), c.evalCapacityFactor(),
                c.renormalize(), c.auxLossCoef(), c.zLossCoef(), c.jitter(), expert, c.hidden(), c.every());
    }

    /** {@code c} with the routing options of current MoE models. */
    static MoeConfig variant(MoeConfig c, int sharedExperts, String gate, String balance, String auxScope,
                             int routeGroups, int topGroups) {
        return new MoeConfig(c.router(), c.experts(), c.k(), c.capacityFactor(), c.evalCapacityFactor(),
                c.renormalize(), c.auxLossCoef(), c.zLossCoef(), c.jitter(), c.expert(), c.hidden(), c.every(),
                sharedExperts, gate, balance, c.biasUpdateRate(), auxScope, routeGroups, topGroups);
    }

    static MoeConfig renormalized(MoeConfig c) {
        return new MoeConfig(c.router(), c.experts(), c.k(), c.capacityFactor(), c.evalCapacityFactor(), true,
                c.auxLossCoef(), c.zLossCoef(), c.jitter(), c.expert(), c.hidden(), c.every());
    }

    /**
     * A layer whose parameters are redrawn from {@code seed}: the router with std {@code routerStd}
     * (large, so that probabilities are well apart), expert weights with std 0.5, biases 0.1.
     */
    static MoeLayer layer(Device device, MoeConfig config, int width, long seed, double routerStd) {
        MoeLayer layer = new MoeLayer(config, width, new LayerContext(device, new SplitMix64(seed)));
        SplitMix64 random = new SplitMix64(seed + 1);
        parameters(layer).forEach((name, p) -> {
            double std = name.equals("router.weight") ? routerStd : name.endsWith("bias") ? 0.1 : 0.5;
            float[] data = p.data();
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) (random.nextGaussian() * std);
            }
            p.toDevice();
        });
        return layer;
    }

    static Map<String, Tensor> parameters(MoeLayer layer) {
        Map<String, Tensor> map = new LinkedHashMap<>();
        layer.collectParameters("", map);
        return map;
    }

    static Tensor gaussian(Device device, long seed, float scale, int... shape) {
        SplitMix64 random = new SplitMix64(seed);
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return Tensor.of(device, true, values, shape);
    }

    /**
     * The layer's forward as an op for {@link org.moe4j.tensor.GradCheck}, failing if any evaluation
     * routes differently from the first (a perturbation crossed a top-k or capacity boundary).
     */
    static Function<Tape, Tensor> stableRouting(MoeLayer layer, Tensor x) {
        int[][] reference = new int[2][];
        return tape -> {
            Tensor y = layer.forward(tape, x);
            DispatchPlan plan = layer.lastPlan();
            if (reference[0] == null) {
                reference[0] = plan.choice().clone();
                reference[1] = plan.slot().clone();
            } else {
                assertArrayEquals(reference[0], plan.choice(), "a perturbation changed the expert choices");
                assertArrayEquals(reference[1], plan.slot(), "a perturbation changed the capacity slots");
            }
            return y;
        };
    }
}
