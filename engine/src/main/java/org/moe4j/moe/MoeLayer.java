package org.moe4j.moe;

import java.util.Arrays;
import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Router;
import org.moe4j.nn.FeedForward;
import org.moe4j.nn.ExpertRows;
import org.moe4j.nn.Init;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Activations;
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
 * <p>One sequence for any number of processes: route, plan, dispatch, exchange, experts, exchange
 * back, combine. The layer's input is this rank's part of the global batch, and routing, capacity,
 * auxiliary losses and statistics are those of the global batch ({@link TokenExchange}: with one
 * process every exchange is the identity). With {@link ExpertParallel} over W = ep × dp ranks this
 * rank holds experts {@code [e·E/ep, (e+1)·E/ep)} for its expert rank e (their parameters keep their
 * names, with leading dimension E/ep) and the router. The auxiliary losses go on the tape as this rank's share of the global
 * losses, so that the sum over ranks of the objectives is the single-process objective;
 * {@link #lastStats()} holds the global statistics on every rank.
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
    private final TokenExchange exchange;
    /** Null without shared experts. */
    private final SharedExperts shared;
    /** (E) the selection bias of bias balancing, a buffer saved in checkpoints; null without it. */
    private final Tensor balanceBias;
    /** Every rank's assignments per expert before capacity in the last training pass: what the bias follows. */
    private int[] lastTrainingLoads;
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
     * A layer whose experts are sharded over {@code parallel}'s ranks (null: all experts here). A
     * rank builds only its experts ({@link ExpertRows}), consuming the random stream exactly as the
     * unsharded layer does, so every rank's experts equal the corresponding experts of the
     * single-process model of the same seed.
     */
    public MoeLayer(MoeConfig config, int width, LayerContext layer, float std, float residualStd,
                    ExpertParallel parallel) {
        this.config = config;
        this.width = width;
        this.router = ExpertRouter.of(config);
        this.parallel = parallel != null && parallel.worldSize() > 1 ? parallel : null;
        this.exchange = this.parallel == null ? LocalExchange.INSTANCE : new ExpertExchange(this.parallel);
        this.routerWeight = Init.normal(layer, std, width, config.experts());
        int e = config.experts();
        this.experts = this.parallel == null
                ? Experts.create(config.expert(), new ExpertShape(e, width, config.hidden(), std, residualStd), layer)
                : Experts.create(config.expert(), new ExpertShape(this.parallel.localExperts(e), width, config.hidden(),
                        std, residualStd), layer.experts(new ExpertRows(this.parallel.firstExpert(e),
                                this.parallel.localExperts(e), e)));
        this.jitterNoise = new JitterNoise(layer.random().split(), config.jitter(), width);
        this.shared = config.sharedExperts() > 0 ? new SharedExperts(config, width, std, residualStd, layer) : null;
        this.balanceBias = config.balance().equals("bias") ? Tensor.zeros(layer.device(), false, config.experts()) : null;
    }

    /**
     * @param x (N,D) or (B,T,D), this rank's tokens (whole sequences of T for the sequence-wise loss);
     *          not modified
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
        boolean sigmoid = config.gate().equals("sigmoid");

        // A recomputed pass (Tape.recompute) gets the first pass's noise and routing, not new ones.
        Tensor routerInput = training && config.jitter() > 0
                ? Elementwise.multiply(tape, flat, tape.decision(jitterNoise, () -> noise(n)).factors(device))
                : flat;
        Tensor logits = Linear.forward(tape, routerInput, routerWeight, null);
        Tensor probs = sigmoid ? Activations.sigmoid(tape, logits)
                : Softmax.softmax(tape, logits.view(n * groups, e / groups)).view(n, e);
        // The distribution the balance loss and the statistics see: the softmax, or the sigmoid scores normalised.
        Tensor distribution = sigmoid ? GateOps.normalizeRows(tape, probs) : probs;
        ExpertRouter.Routed routed = tape.decision(this,
                () -> router.route(device, selectionScores(device, probs, n), capacityFactor, exchange));
        DispatchPlan plan = routed.plan();

        // This rank's shares of the global losses: aux = G·Σ f·P with f over the global counts and P
        // = (1/N)·Σ p over the global tokens, so the share of n tokens is the local value (1/n
        // normalisers) times (n/N)²; a mean over tokens or over whole sequences, times n/N. One process: 1.
        double share = n / (double) Math.max(1, routed.globalTokens());
        Tensor weights = GateOps.combineWeights(tape, probs, plan, sigmoid ? Router.WEIGHTS_OVER_CHOSEN
                : router.renormalize() ? Router.WEIGHTS_OVER_KEPT : Router.WEIGHTS_RAW);
        boolean bySequence = config.auxScope().equals("sequence");
        Tensor aux = !router.balanceLoss() || n == 0 ? Tensor.zeros(device, false, 1)
                : bySequence ? GateOps.sequenceBalanceLoss(tape, distribution, plan, groups, router.choicesPerGroup(),
                        x.rank() == 3 ? x.dim(1) : n)
                : GateOps.balanceLoss(tape, distribution, plan, groups, router.choicesPerGroup());
        Tensor z = n > 0 ? GateOps.zLoss(tape, logits, groups) : Tensor.zeros(device, false, 1);
        double auxShare = bySequence ? share : share * share;
        tape.addLoss("aux_loss", aux, (float) (config.auxLossCoef() * auxShare));
        tape.addLoss("z_loss", z, (float) (config.zLossCoef() * share));

        TokenExchange.Pass pass = exchange.prepare(device, plan, routed.slotSources());
        Tensor rows = DispatchOps.dispatch(tape, flat, pass.sendPlan());
        Tensor buffer = pass.toExperts(tape, rows);
        Tensor out = experts.forward(tape, buffer);
        out.requireShape("output of expert " + config.expert(), exchange.localExperts(e), pass.capacity(), width);
        Tensor y = DispatchOps.combine(tape, pass.fromExperts(tape, out), weights, pass.sendPlan());
        if (shared != null) {
            y = Elementwise.add(tape, y, shared.forward(tape, flat));
        }

        if (!tape.isRecomputation()) {
            lastPlan = plan;
            lastStats = stats(device, routed, capacityFactor == 0, distribution, aux, z, share, auxShare);
            if (training) {
                lastTrainingLoads = plan.chosen().clone();
            }
        }
        return y.view(x.shape());
    }

    /**
     * The scores experts are selected by: the gate scores, plus the balance bias, within the token's
     * best groups. Not differentiated: the combine weights use the gate scores.
     */
    private Tensor selectionScores(Device device, Tensor probs, int n) {
        int e = config.experts();
        float[] scores = probs.data();
        if (balanceBias != null) {
            float[] biased = device.allocateFloats(n * e);
            device.launch(Router.gridTokens(n), Router::biasScores, biased, scores, balanceBias.data(), n, e);
            scores = biased;
        }
        if (config.routeGroups() > 1) {
            float[] grouped = device.allocateFloats(n * e);
            device.launch(Router.gridTokenGroups(n, config.routeGroups()), Router::maskGroups, grouped, scores, n, e,
                    config.routeGroups(), config.topGroups());
            scores = grouped;
        }
        return scores == probs.data() ? probs : Tensor.of(device, false, scores, n, e);
    }

    /**
     * Bias balancing, after a training step: every expert's selection bias moves by
     * {@code γ·sign(mean load − load)}, the loads being every rank's assignments before capacity in
     * the last training pass (so every rank moves it the same way). Nothing without bias balancing.
     */
    public void updateBalanceBias() {
        if (balanceBias == null || lastTrainingLoads == null) {
            return;
        }
        double mean = Arrays.stream(lastTrainingLoads).average().orElse(0);
        float[] bias = balanceBias.toHost().data();
        for (int x = 0; x < bias.length; x++) {
            bias[x] += (float) (config.biasUpdateRate() * Math.signum(mean - lastTrainingLoads[x]));
        }
        balanceBias.toDevice();
    }

    /** The selection bias of bias balancing {@code (E)}, or null without it. */
    public Tensor balanceBias() {
        return balanceBias;
    }

    /** This rank's rows of the global batch's jitter factors, drawn now: the stream moves past the step's. */
    private JitterNoise.Rows noise(int n) {
        long[] counts = exchange.tokenCounts(n);
        long first = 0;
        long total = 0;
        for (int q = 0; q < counts.length; q++) {
            first += q < exchange.rank() ? counts[q] : 0;
            total += counts[q];
        }
        return jitterNoise.draw(first, n, total);
    }

    /** The global batch's statistics: counts every rank knows, sums the ranks add up. */
    private RoutingStats stats(Device device, ExpertRouter.Routed routed, boolean dropless, Tensor distribution, Tensor aux, Tensor z,
                               double share, double auxShare) {
        DispatchPlan plan = routed.plan();
        device.copyToHost(plan.chosen());
        device.copyToHost(plan.kept());
        device.copyToHost(plan.slot());
        device.copyToHost(plan.choice());
        int n = plan.tokens();
        int groups = router.groups();
        boolean expertChoice = !router.balanceLoss();
        double[] sums = exchange.sum(new double[] {
            RoutingStats.entropySum(distribution.toHost().data(), n, plan.experts(), groups),
            aux.toHost().data()[0] * auxShare,
            z.toHost().data()[0] * share,
            expertChoice ? RoutingStats.untouched(plan.slot(), n, plan.perToken()) : 0,
            RoutingStats.destinations(plan.choice(), plan.slot(), n, plan.perToken(),
                    plan.experts() / config.routeGroups())});
        int tokens = routed.globalTokens();
        double perToken = tokens > 0 ? 1.0 / tokens : 0;
        return RoutingStats.of(tokens, plan.capacity(), dropless, plan.chosen(), plan.kept(), expertChoice ? (long) sums[3] : -1,
                sums[0] * perToken / groups, sums[1], sums[2], sums[4] * perToken,
                balanceBias == null ? null : balanceBias.toHost().data());
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
        if (shared != null) {
            shared.collectParameters(prefix + "shared.", into);
        }
    }
}
