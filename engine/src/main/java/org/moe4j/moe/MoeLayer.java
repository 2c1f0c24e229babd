package org.moe4j.moe;

import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.nn.FeedForward;
import org.moe4j.nn.Init;
import org.moe4j.nn.LayerContext;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Elementwise;
import org.moe4j.tensor.ops.Linear;
import org.moe4j.tensor.ops.Softmax;

/**
 * A sparse Mixture-of-Experts feed-forward layer, exactly as {@code docs/moe.md} defines it:
 * router logits {@code h = x·Wr}, gate probabilities (a softmax per group), routing with capacity
 * ({@link ExpertRouter}), dispatch into {@code (E,C,D)}, all experts at once ({@link Expert}),
 * and the weighted combine back to {@code (N,D)}. A token that no expert kept gets 0 (the block's
 * residual connection carries it).
 *
 * <p>On a training tape ({@link Tape#isTraining()}) it uses {@code capacity_factor} and jitter; on
 * any other, {@code eval_capacity_factor} and no jitter. Every forward adds the load-balancing and
 * z losses to the tape ({@code aux_loss}, {@code z_loss}) with their coefficients and leaves its
 * {@link RoutingStats} in {@link #lastStats()}.
 *
 * <p>Parameters: {@code router.weight (D,E)} and the experts' under {@code experts.}.
 */
public final class MoeLayer implements FeedForward {
    private static final float DEFAULT_STD = 0.02f;

    private final MoeConfig config;
    private final int width;
    private final ExpertRouter router;
    private final Tensor routerWeight;
    private final Expert experts;
    private final SplitMix64 jitterNoise;
    private RoutingStats lastStats;
    private DispatchPlan lastPlan;

    /** A layer initialised with std 0.02 throughout. */
    public MoeLayer(MoeConfig config, int width, LayerContext layer) {
        this(config, width, layer, DEFAULT_STD, DEFAULT_STD);
    }

    /**
     * @param std         initialisation std of the router and of the expert weights reading the input
     * @param residualStd initialisation std of the expert projections back into the residual stream
     */
    public MoeLayer(MoeConfig config, int width, LayerContext layer, float std, float residualStd) {
        this.config = config;
        this.width = width;
        this.router = ExpertRouter.of(config);
        this.routerWeight = Init.normal(layer, std, width, config.experts());
        this.experts = Experts.create(config.expert(),
                new ExpertShape(config.experts(), width, config.hidden(), std, residualStd), layer);
        this.jitterNoise = layer.random().split();
    }

    /**
     * @param x (N,D) or (B,T,D); not modified
     * @return the same shape as {@code x}
     */
    @Override
    public Tensor forward(Tape tape, Tensor x) {
        if (x.dim(-1) != width) {
            throw new IllegalArgumentException("MoE layer of width " + width + " got input " + x);
        }
        Device device = tape.device();
        int n = x.rows();
        int e = config.experts();
        int groups = router.groups();
        Tensor flat = x.view(n, width);
        boolean training = tape.isTraining();
        double capacityFactor = training ? config.capacityFactor() : config.evalCapacityFactor();

        Tensor routerInput = training && config.jitter() > 0 ? Elementwise.multiply(tape, flat, noise(device, n)) : flat;
        Tensor logits = Linear.forward(tape, routerInput, routerWeight, null);
        Tensor probs = Softmax.softmax(tape, logits.view(n * groups, e / groups)).view(n, e);
        DispatchPlan plan = router.plan(device, probs, capacityFactor);

        Tensor weights = GateOps.combineWeights(tape, probs, plan, router.renormalize());
        Tensor aux = router.balanceLoss()
                ? GateOps.balanceLoss(tape, probs, plan, groups, router.choicesPerGroup())
                : Tensor.zeros(device, false, 1);
        Tensor z = GateOps.zLoss(tape, logits, groups);
        tape.addLoss("aux_loss", aux, (float) config.auxLossCoef());
        tape.addLoss("z_loss", z, (float) config.zLossCoef());

        Tensor buffer = DispatchOps.dispatch(tape, flat, plan);
        Tensor out = experts.forward(tape, buffer);
        out.requireShape("output of expert " + config.expert(), e, plan.capacity(), width);
        Tensor y = DispatchOps.combine(tape, out, weights, plan);

        lastPlan = plan;
        lastStats = stats(device, plan, probs, aux, z);
        return y.view(x.shape());
    }

    /** Routing statistics of the last forward pass; null before the first. */
    public RoutingStats lastStats() {
        return lastStats;
    }

    /** The dispatch plan of the last forward pass; null before the first. */
    public DispatchPlan lastPlan() {
        return lastPlan;
    }

    public MoeConfig config() {
        return config;
    }

    public ExpertRouter router() {
        return router;
    }

    public Expert experts() {
        return experts;
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "router.weight", routerWeight);
        experts.collectParameters(prefix + "experts.", into);
    }

    /** {@code (N,D)} factors {@code U(1 - jitter, 1 + jitter)} from this layer's stream. */
    private Tensor noise(Device device, int n) {
        float[] u = new float[n * width];
        float jitter = (float) config.jitter();
        for (int i = 0; i < u.length; i++) {
            u[i] = 1f - jitter + 2f * jitter * jitterNoise.nextFloat();
        }
        return Tensor.of(device, false, u, n, width);
    }

    private RoutingStats stats(Device device, DispatchPlan plan, Tensor probs, Tensor aux, Tensor z) {
        device.copyToHost(plan.chosen());
        device.copyToHost(plan.kept());
        device.copyToHost(plan.slot());
        return RoutingStats.of(plan.tokens(), plan.capacity(), plan.chosen(), plan.kept(), plan.slot(),
                plan.perToken(), probs.toHost().data(), router.groups(), !router.balanceLoss(),
                aux.toHost().data()[0], z.toHost().data()[0]);
    }
}
