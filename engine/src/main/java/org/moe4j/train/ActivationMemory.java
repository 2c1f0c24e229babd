package org.moe4j.train;

import org.moe4j.moe.ExpertRouter;
import org.moe4j.moe.Experts;
import org.moe4j.moe.MoeConfig;
import org.moe4j.nn.ModelConfig;

/**
 * The activation memory of one rank's training step, counted op by op as the engine allocates it
 * (every count is of 4-byte elements: floats, and the routing plan's ints). Notation: {@code b}
 * sequences of {@code T} on this rank, {@code n = b·T} tokens, {@code N = B·T} in the global batch.
 *
 * <p>What a recorded op allocates for its output stays until the backward pass ends, and its
 * gradient (the same size) is allocated during the backward pass and stays too, so without
 * recomputation the peak is at the end of the backward pass: everything kept, plus a gradient of
 * every recorded output. With recomputation the step keeps the embeddings, each block's output,
 * the head and the routing plans, and one block at a time is alive with its gradients.
 *
 * <p>Per block (pre-norm): two norms (output {@code n·D}, {@code n} saved rstd), q/k/v {@code 3n·D},
 * attention output {@code n·D} and its saved probabilities {@code b·H·T·T}, the projection, two
 * residual adds. A dense MLP: {@code 2n·F + n·D}. An MoE layer: jitter {@code n·D} and its factors,
 * router logits and gate scores {@code n·E} (the sigmoid gate normalises them too), combine weights
 * {@code n·J}, the two loss scalars and the saved log-sum-exp, the plan ({@code 2n·J + 2E + E·C}
 * ints), the experts on their {@code (E/ep, C, ·)} buffer (GELU {@code 2F + D} per row, of which
 * only the output {@code D} has a gradient when fused, SwiGLU {@code 4F + D}), the combine {@code n·D}, and the shared experts on an every-token buffer. The
 * token exchange's own tensors are counted apart: in one process the dispatch buffer
 * {@code (E,C,D)}; over several ranks the rows of this rank's {@code A} kept assignments out and
 * back ({@code A·D} each, and {@code 2n·J + A} ints of the send plan) and the experts' buffer
 * {@code (E/ep,C,D)}.
 *
 * <p>The plan is of the rank that needs the most. The capacity is the router's on the global batch,
 * and the experts' buffers and activations are planned full: a step whose experts keep fewer
 * assignments from the rank's expert group packs its buffer to the most any of them keeps, and
 * uses less. The kept assignments are those of rank 0, whose tokens come first in the capacity
 * order and so are kept whenever there is room: {@code A = min(n·J, E·C)} (expert choice ranks by
 * score instead, and is planned balanced, {@code E·C·n/N}); a capacity factor of 0 (dropless) is
 * planned at the balanced load {@code C = ceil(J·N/E)}.
 */
final class ActivationMemory {
    private final long n;
    private final long bigN;
    private final long b;
    private final long t;
    private final long d;
    private final long h;
    private final long v;
    private final long f;
    private final int layers;
    private final boolean recompute;
    private final ModelConfig model;
    private final ParallelLayout layout;
    /**
     * Whether the GELU experts run fused ({@code BatchedGeluMlp}): their pre-activation and
     * activation are kept without gradients. Not where the GEMMs may be cuBLAS's (CUDA), whose
     * unfused ops give each its gradient.
     */
    private final boolean fusedGelu;

    /** Kept after the forward pass, and at the peak of the step, split into the exchange's tensors and the rest. */
    private long keptActivations;
    private long keptExchange;
    private long peakActivations;
    private long peakExchange;
    /** The host arrays one token exchange stages its rows in (at most two at a time), in elements. */
    private long staging;
    /** Elements of the largest activation tensor, and what it is. */
    private long largest;
    private String largestName = "";
    /** Per MoE layer: capacity, kept assignments of this rank, and of those the ones on other ranks. */
    private long capacity;
    private long keptAssignments;
    private long perToken;

    ActivationMemory(TrainConfig config, ParallelLayout layout) {
        this.model = config.model();
        this.layout = layout;
        this.fusedGelu = !config.device().startsWith("cuda");
        this.recompute = config.recompute();
        this.b = config.batchSize() / layout.world();
        this.t = model.contextSize();
        this.n = b * t;
        this.bigN = (long) config.batchSize() * t;
        this.d = model.width();
        this.h = model.heads();
        this.v = model.vocabSize();
        this.f = model.hidden();
        this.layers = model.layers();
        compute();
    }

    /**
     * One block's tensors: recorded outputs (each gets a gradient), saved buffers, how many are the
     * exchange's, the routing plan (kept as a decision when recomputed), and the gradients a recorded
     * forward allocates early (a view of a tensor shares its gradient, allocated with the view).
     */
    private record Block(long recorded, long saved, long exchangeRecorded, long decisions, long earlyGrads) {
        long data() {
            return recorded + saved;
        }
    }

    private void compute() {
        // Embeddings (two lookups and their sum), the final norm, the head, the loss; saved ids, rstd, targets.
        long topRecorded = 3 * n * d + n * d + n * v + 1;
        long topSaved = 2 * n + n + n;
        // The loss views the logits, whose gradient comes with the view.
        long topEarlyGrads = n * v;
        note("head logits (B/W*T, V)", n * v);
        note("attention probabilities (B/W, H, T, T)", b * h * t * t);
        note("q, k, v (B/W*T, 3D)", 3 * n * d);
        long attention = b * h * t * t;
        long allRecorded = topRecorded;
        long allData = topRecorded + topSaved;
        long allExchange = 0;
        long earlyGrads = topEarlyGrads;
        long decisions = 0;
        long worstBlock = 0;
        long worstBlockExchange = 0;
        for (int i = 0; i < layers; i++) {
            Block block = block(i);
            allRecorded += block.recorded();
            allData += block.data() + block.decisions();
            allExchange += block.exchangeRecorded();
            earlyGrads += block.earlyGrads();
            decisions += block.decisions();
            // Alive while a block is recomputed: its tensors, the gradients of all but its output, and its input's.
            long alive = block.data() + block.recorded();
            if (alive > worstBlock) {
                worstBlock = alive;
                worstBlockExchange = 2 * block.exchangeRecorded();
            }
        }
        if (!recompute) {
            keptExchange = allExchange;
            keptActivations = allData - allExchange + earlyGrads;
            // At the end of the backward pass: everything, and a gradient of every recorded tensor. Block 0's
            // attention scratch comes before the gradients of its norm and of the two embeddings.
            peakExchange = 2 * allExchange;
            peakActivations = allData + allRecorded + Math.max(0, attention - 3 * n * d) - peakExchange;
        } else {
            long blockOutputs = layers * n * d;
            keptExchange = 0;
            keptActivations = topRecorded + topSaved + topEarlyGrads + blockOutputs + decisions;
            // While block 0 is recomputed: the kept tensors (the logits' gradient among them), the gradients of
            // the loss, the final norm and every block output, and that block's tensors with theirs (its attention scratch comes before
            // the gradient of its first norm's output).
            long mainGrads = 1 + n * d + blockOutputs;
            peakExchange = worstBlockExchange;
            peakActivations = keptActivations + mainGrads + worstBlock + Math.max(0, attention - n * d) - peakExchange;
        }
        staging = layout.world() > 1 && model.moe() != null ? 2 * keptAssignments * d : 0;
    }

    private Block block(int index) {
        long recorded = 9 * n * d;
        long saved = 2 * n + b * h * t * t;
        if (!model.isMoeBlock(index)) {
            note("dense hidden (B/W*T, F)", n * f);
            return new Block(recorded + 2 * n * f + n * d, saved, 0, 0, 0);
        }
        MoeConfig moe = model.moe();
        ExpertRouter router = ExpertRouter.of(moe);
        long e = moe.experts();
        long local = e / layout.ep();
        boolean expertChoice = router.choicesPerGroup() == 0;
        long j = expertChoice ? e : (long) router.groups() * router.choicesPerGroup();
        perToken = j;
        long c = moe.capacityFactor() == 0
                ? Math.max(1, Math.min(bigN, (j * bigN + e - 1) / e))
                : router.capacity((int) Math.min(Integer.MAX_VALUE, bigN), moe.capacityFactor());
        capacity = c;
        keptAssignments = expertChoice ? e * c * n / Math.max(1, bigN)
                : Math.min(n * j, e * c);
        long a = keptAssignments;
        long fe = moe.hidden();
        boolean fused = fusedGelu && moe.expert().equals(Experts.GELU);
        // Per row of an expert's buffer: its hidden tensors and output, and of those the ones with a gradient.
        long expertRow = moe.expert().equals(Experts.SWIGLU) ? 4 * fe + d : 2 * fe + d;
        long expertRowRecorded = fused ? d : expertRow;
        if (moe.jitter() > 0) {
            recorded += n * d;
            saved += n * d;
        }
        boolean sigmoid = moe.gate().equals("sigmoid");
        // Logits, gate scores (the sigmoid's normalised too), combine weights, the two losses, the combine.
        recorded += n * e * (sigmoid ? 3 : 2) + n * j + 2 + n * d;
        saved += n * router.groups();
        recorded += local * c * expertRowRecorded;
        saved += local * c * (expertRow - expertRowRecorded);
        note("expert hidden (E/ep, C, F)", local * c * fe);
        long plan = expertChoice ? 2 * n * e + e + e * c : 2 * n * j + 2 * e + e * c;
        long exchange;
        if (layout.world() == 1) {
            exchange = e * c * d;
            note("dispatch buffer (E, C, D)", exchange);
        } else {
            exchange = 2 * a * d + local * c * d;
            saved += 2 * n * j + a + 2;
            note("experts' buffer (E/ep, C, D)", local * c * d);
        }
        long shared = moe.sharedExperts();
        if (shared > 0) {
            recorded += shared * n * d + shared * n * expertRowRecorded + 2 * n * d;
            saved += shared * n * (expertRow - expertRowRecorded);
            saved += n * shared;
            plan += 3 * n * shared + 2 * shared;
        }
        // The layer views its input, its logits and gate scores (softmax per group), and its output.
        long earlyGrads = 2 * n * d + (sigmoid ? 0 : 2 * n * e);
        return new Block(recorded + exchange, saved, exchange, plan, earlyGrads);
    }

    private void note(String name, long elements) {
        if (elements > largest) {
            largest = elements;
            largestName = name;
        }
    }

    /** Bytes kept for the backward pass after the forward, not counting the exchange's tensors. */
    long keptActivationBytes() {
        return 4 * keptActivations;
    }

    /** Bytes of the exchange's tensors kept after the forward pass. */
    long keptExchangeBytes() {
        return 4 * keptExchange;
    }

    /** Activation bytes (data and gradients) at the step's peak, not counting the exchange's. */
    long peakActivationBytes() {
        return 4 * peakActivations;
    }

    /** The exchange's tensors and their gradients at the step's peak, in bytes. */
    long peakExchangeBytes() {
        return 4 * peakExchange;
    }

    /** The host arrays the token exchange stages rows in, at the wire's element size, in bytes. */
    long stagingBytes() {
        return staging * layout.commBytes();
    }

    long largestTensor() {
        return largest;
    }

    String largestTensorName() {
        return largestName;
    }

    /** C, slots per expert of an MoE layer on the global batch (0 for a dense model). */
    long capacity() {
        return capacity;
    }

    /** A, the kept assignments of rank 0's tokens in one MoE layer. */
    long keptAssignments() {
        return keptAssignments;
    }

    /** J, assignments per token in the plan. */
    long perToken() {
        return perToken;
    }

    /** Tokens on this rank. */
    long tokens() {
        return n;
    }
}
