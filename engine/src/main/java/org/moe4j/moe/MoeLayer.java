package org.moe4j.moe;

import java.util.LinkedHashMap;
import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Router;
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
 *
 * <p>With {@link ExpertParallel} over W ranks, this rank holds experts {@code [r·E/W, (r+1)·E/W)}
 * (their parameters keep their names, with leading dimension E/W) and the router; the layer's
 * input is this rank's part of the global batch, and routing, capacity, auxiliary losses and
 * statistics are those of the global batch (see {@link ExpertExchange}). The auxiliary losses go on
 * the tape as this rank's share of the global losses, so that the sum over ranks of the objectives
 * is the single-process objective; {@link #lastStats()} holds the global statistics on every rank.
 */
public final class MoeLayer implements FeedForward {
    private static final float DEFAULT_STD = 0.02f;

    private final MoeConfig config;
    private final int width;
    private final ExpertRouter router;
    private final Tensor routerWeight;
    private final Expert experts;
    private final JitterNoise jitterNoise;
    private final ExpertParallel parallel;
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
        this(config, width, layer, std, residualStd, null);
    }

    /**
     * A layer whose experts are sharded over {@code parallel}'s ranks (null: all experts here). The
     * random stream is consumed exactly as for the unsharded layer, so every rank's experts equal
     * the corresponding experts of the single-process model of the same seed.
     */
    public MoeLayer(MoeConfig config, int width, LayerContext layer, float std, float residualStd,
                    ExpertParallel parallel) {
        this.config = config;
        this.width = width;
        this.router = ExpertRouter.of(config);
        this.parallel = parallel != null && parallel.worldSize() > 1 ? parallel : null;
        if (this.parallel != null && router.choicesPerGroup() == 0) {
            throw new IllegalArgumentException("moe.router=" + config.router() + " is not supported with expert "
                    + "parallelism (world size " + parallel.worldSize() + "): use topk, switch or prototype");
        }
        this.routerWeight = Init.normal(layer, std, width, config.experts());
        Expert all = Experts.create(config.expert(),
                new ExpertShape(config.experts(), width, config.hidden(), std, residualStd), layer);
        this.experts = this.parallel == null ? all : shard(all, config, width, std, residualStd, layer, this.parallel);
        this.jitterNoise = new JitterNoise(layer.random().split(), config.jitter(), width);
    }

    /** This rank's experts: a copy of rows {@code [first, first + E/W)} of every expert parameter. */
    private static Expert shard(Expert all, MoeConfig config, int width, float std, float residualStd,
                                LayerContext layer, ExpertParallel parallel) {
        int e = config.experts();
        int local = parallel.localExperts(e);
        int first = parallel.firstExpert(e);
        Expert mine = Experts.create(config.expert(), new ExpertShape(local, width, config.hidden(), std, residualStd),
                new LayerContext(layer.device(), new SplitMix64(0)));
        Map<String, Tensor> from = new LinkedHashMap<>();
        Map<String, Tensor> to = new LinkedHashMap<>();
        all.collectParameters("", from);
        mine.collectParameters("", to);
        for (Map.Entry<String, Tensor> entry : to.entrySet()) {
            Tensor source = from.get(entry.getKey());
            Tensor target = entry.getValue();
            if (source == null || source.dim(0) != e || target.dim(0) != local
                    || source.size() / e != target.size() / local) {
                throw new IllegalArgumentException("moe.expert=" + config.expert() + ": parameter experts."
                        + entry.getKey() + " must have leading dimension E (" + e + ") to be sharded over "
                        + parallel.worldSize() + " ranks, got " + source + " and " + target);
            }
            int rowSize = target.size() / local;
            System.arraycopy(source.toHost().data(), first * rowSize, target.data(), 0, target.size());
            target.toDevice();
        }
        return mine;
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
        if (parallel != null) {
            return forwardSharded(tape, flat, training, capacityFactor).view(x.shape());
        }

        Tensor routerInput = training && config.jitter() > 0
                ? Elementwise.multiply(tape, flat, jitterNoise.factors(device, 0, n, n)) : flat;
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

    /** {@link #forward} with experts on several ranks: flat (n,D) is this rank's part of the global batch. */
    private Tensor forwardSharded(Tape tape, Tensor flat, boolean training, double capacityFactor) {
        Device device = tape.device();
        int n = flat.dim(0);
        int e = config.experts();
        int groups = router.groups();
        int perGroup = router.choicesPerGroup();
        int j = groups * perGroup;

        Tensor routerInput = training && config.jitter() > 0
                ? Elementwise.multiply(tape, flat, shardedNoise(device, n)) : flat;
        Tensor logits = Linear.forward(tape, routerInput, routerWeight, null);
        Tensor probs = Softmax.softmax(tape, logits.view(n * groups, e / groups)).view(n, e);
        int[] choice = device.allocateInts(n * j);
        device.launch(Router.gridTokens(n), Router::topK, choice, probs.data(), n, e, groups, perGroup);
        device.copyToHost(choice);
        ExpertExchange exchange = ExpertExchange.route(device, parallel, router, capacityFactor, choice, n, e, j);
        DispatchPlan plan = exchange.globalPlan();

        // This rank's shares of the global losses: aux = G·Σ f·P with f over the global counts and P
        // = (1/N)·Σ p over the global tokens, so the share of n tokens is the local value (1/n
        // normalisers) times (n/N)²; the z-loss share is the local mean times n/N.
        double share = n / (double) Math.max(1, exchange.globalTokens());
        Tensor weights = GateOps.combineWeights(tape, probs, plan, router.renormalize());
        Tensor aux = n > 0 ? GateOps.balanceLoss(tape, probs, plan, groups, perGroup) : Tensor.zeros(device, false, 1);
        Tensor z = n > 0 ? GateOps.zLoss(tape, logits, groups) : Tensor.zeros(device, false, 1);
        tape.addLoss("aux_loss", aux, (float) (config.auxLossCoef() * share * share));
        tape.addLoss("z_loss", z, (float) (config.zLossCoef() * share));

        Tensor rows = DispatchOps.dispatch(tape, flat, exchange.sendPlan());
        Tensor buffer = exchange.toExperts(tape, rows, parallel.localExperts(e));
        Tensor out = experts.forward(tape, buffer);
        out.requireShape("output of expert " + config.expert(), parallel.localExperts(e), plan.capacity(), width);
        Tensor back = exchange.fromExperts(tape, out);
        Tensor y = DispatchOps.combine(tape, back, weights, exchange.sendPlan());

        float[] sums = {
            (float) RoutingStats.entropySum(probs.toHost().data(), n, e, groups),
            (float) (aux.toHost().data()[0] * share * share),
            (float) (z.toHost().data()[0] * share)};
        parallel.group().allReduceSum(sums);
        device.copyToHost(plan.chosen());
        device.copyToHost(plan.kept());
        lastPlan = plan;
        lastStats = RoutingStats.ofCounts(exchange.globalTokens(), plan.capacity(), plan.chosen(), plan.kept(),
                exchange.globalTokens() > 0 ? sums[0] / ((double) exchange.globalTokens() * groups) : 0, sums[1],
                sums[2]);
        return y;
    }

    /** This rank's rows of the global batch's jitter factors. */
    private Tensor shardedNoise(Device device, int n) {
        long[] counts = parallel.group().allGather(n);
        long first = 0;
        long total = 0;
        for (int q = 0; q < counts.length; q++) {
            first += q < parallel.rank() ? counts[q] : 0;
            total += counts[q];
        }
        return jitterNoise.factors(device, first, n, total);
    }

    /** The expert parallelism this layer uses, or null when it holds all experts. */
    public ExpertParallel parallel() {
        return parallel;
    }

    /** The jitter noise stream; its state goes into checkpoints. */
    public JitterNoise jitterNoise() {
        return jitterNoise;
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

    private RoutingStats stats(Device device, DispatchPlan plan, Tensor probs, Tensor aux, Tensor z) {
        device.copyToHost(plan.chosen());
        device.copyToHost(plan.kept());
        device.copyToHost(plan.slot());
        return RoutingStats.of(plan.tokens(), plan.capacity(), plan.chosen(), plan.kept(), plan.slot(),
                plan.perToken(), probs.toHost().data(), router.groups(), !router.balanceLoss(),
                aux.toHost().data()[0], z.toHost().data()[0]);
    }
}
