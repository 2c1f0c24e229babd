package org.moe4j.moe;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.moe4j.distributed.ProcessGroup;

/**
 * The parallel layout {@code world = ep × dp} over a {@link ProcessGroup} of W ranks: the experts
 * of every MoE layer are sharded over an expert-parallel group of {@code ep} consecutive ranks and
 * replicated over the {@code dp = W/ep} such groups. Rank r is expert rank {@code e = r mod ep} of
 * expert group {@code g = r / ep}, holds experts {@code [e·E/ep, (e+1)·E/ep)}, and shares them with
 * the ranks {@code e, e + ep, e + 2·ep, …} (its replica group). Tokens travel to their experts'
 * owners inside the expert group and back, with two all-to-alls per forward (and two in the
 * backward pass); expert gradients are summed over the replica group, dense ones over the world.
 * The global batch is the concatenation of all W ranks' batches in rank order, and every routing
 * decision (capacity slots, drops, auxiliary losses, statistics) is the one a single process makes
 * on that global batch: the counts go to every rank of the world.
 *
 * <p>{@code ep = W} (dp = 1) shards the experts over all ranks; {@code ep = 1} (dp = W) is data
 * parallelism with every expert on every rank.
 *
 * <p>Also counts the bytes this rank sends in the MoE all-to-alls and the time it spends in the
 * token all-to-alls, for reports.
 */
public final class ExpertParallel {
    private final ProcessGroup group;
    private final int ep;
    private final ProcessGroup expertGroup;
    private final ProcessGroup replicaGroup;
    private final boolean bf16;
    private long bytesSent;
    private long exchangeNanos;

    /** Experts sharded over all ranks of {@code group}: {@code ep = W}, dp = 1. */
    public ExpertParallel(ProcessGroup group) {
        this(group, Objects.requireNonNull(group, "group").worldSize());
    }

    /**
     * The layout {@code W = ep × dp} over {@code group}.
     *
     * @throws IllegalArgumentException if ep does not divide W, naming both and the choices
     */
    public ExpertParallel(ProcessGroup group, int ep) {
        this(group, ep, false);
    }

    /**
     * As {@link #ExpertParallel(ProcessGroup, int)}; with {@code bf16} the token rows travel as
     * bfloat16 ({@link BFloat16}), the same choice on every rank.
     */
    public ExpertParallel(ProcessGroup group, int ep, boolean bf16) {
        this.bf16 = bf16;
        this.group = Objects.requireNonNull(group, "group");
        int w = group.worldSize();
        if (ep < 1 || w % ep != 0) {
            throw new IllegalArgumentException("parallel.ep=" + ep + " does not divide the world size " + w
                    + ": world = ep × dp; choose ep among " + divisors(w));
        }
        this.ep = ep;
        int r = group.rank();
        int first = r / ep * ep;
        int[] experts = new int[ep];
        for (int i = 0; i < ep; i++) {
            experts[i] = first + i;
        }
        int[] replicas = new int[w / ep];
        for (int k = 0; k < replicas.length; k++) {
            replicas[k] = r % ep + k * ep;
        }
        this.expertGroup = ep == w ? group : group.subgroup(experts);
        this.replicaGroup = ep == 1 ? group : group.subgroup(replicas);
    }

    /**
     * The layout a run asks for: {@code requested} ({@code parallel.ep}), or for 0 the default, the
     * largest divisor of E that divides W (all W ranks when W divides E, as before layouts existed).
     *
     * @param experts E of the model's MoE layers; 0 for a dense model (whose default ep is 1)
     * @param bf16    whether the token rows travel as bfloat16
     * @throws IllegalArgumentException for a layout that does not divide, with the numbers and the choices
     */
    public static ExpertParallel of(ProcessGroup group, int requested, int experts, boolean bf16) {
        return new ExpertParallel(group, size(requested, experts, group.worldSize()), bf16);
    }

    /**
     * The {@code ep} of a layout: {@code requested} ({@code parallel.ep}), or for 0 the default.
     *
     * @param experts E of the model's MoE layers; 0 for a dense model (whose default ep is 1)
     * @throws IllegalArgumentException for a layout that does not divide, with the numbers and the choices
     */
    public static int size(int requested, int experts, int worldSize) {
        if (experts == 0 && requested > 1) {
            throw new IllegalArgumentException("parallel.ep=" + requested + ": a dense model has no experts to shard;"
                    + " leave parallel.ep at 0 (or 1)");
        }
        int ep = requested > 0 ? requested : defaultSize(experts, worldSize);
        if (worldSize % ep != 0) {
            throw new IllegalArgumentException("parallel.ep=" + ep + " does not divide the world size " + worldSize
                    + ": world = ep × dp; choose ep among " + choices(experts, worldSize) + " (or 0 for the default, "
                    + defaultSize(experts, worldSize) + ")");
        }
        if (experts > 0 && experts % ep != 0) {
            throw new IllegalArgumentException("parallel.ep=" + ep + " does not divide moe.experts=" + experts
                    + ": each rank of an expert-parallel group holds E/ep experts; choose ep among "
                    + choices(experts, worldSize) + " (or 0 for the default, " + defaultSize(experts, worldSize) + ")");
        }
        return ep;
    }

    /** The default {@code ep}: the largest divisor of {@code experts} that divides {@code worldSize} (1 without experts). */
    public static int defaultSize(int experts, int worldSize) {
        if (experts <= 0) {
            return 1;
        }
        int a = experts;
        int b = worldSize;
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** The valid {@code ep} for E experts on W ranks: the common divisors. */
    private static List<Integer> choices(int experts, int worldSize) {
        List<Integer> all = divisors(worldSize);
        return experts > 0 ? all.stream().filter(d -> experts % d == 0).toList() : all;
    }

    private static List<Integer> divisors(int n) {
        List<Integer> divisors = new ArrayList<>();
        for (int d = 1; d <= n; d++) {
            if (n % d == 0) {
                divisors.add(d);
            }
        }
        return divisors;
    }

    /** The group of all W ranks. */
    public ProcessGroup group() {
        return group;
    }

    /** This rank's expert-parallel group: ranks {@code [g·ep, (g+1)·ep)}, where its tokens travel. */
    public ProcessGroup expertGroup() {
        return expertGroup;
    }

    /** The ranks holding the same experts as this one ({@code e + k·ep}), where expert gradients are summed. */
    public ProcessGroup replicaGroup() {
        return replicaGroup;
    }

    /** This rank in the world, in [0, W). */
    public int rank() {
        return group.rank();
    }

    /** W. */
    public int worldSize() {
        return group.worldSize();
    }

    /** {@code ep}: ranks the experts are sharded over. */
    public int expertRanks() {
        return ep;
    }

    /** {@code dp = W/ep}: copies of each expert. */
    public int replicas() {
        return worldSize() / ep;
    }

    /** This rank's place in its expert group, {@code r mod ep}. */
    public int expertRank() {
        return rank() % ep;
    }

    /** This rank's expert group, {@code r / ep}: which copy of its experts it holds. */
    public int replica() {
        return rank() / ep;
    }

    /** Experts per rank, {@code E/ep}; E not divisible by ep is a configuration error. */
    public int localExperts(int experts) {
        if (experts % ep != 0) {
            throw new IllegalArgumentException("moe.experts=" + experts + " is not divisible by parallel.ep=" + ep
                    + " (world size " + worldSize() + "): expert parallelism gives every rank of an expert group"
                    + " E/ep experts; choose ep among " + choices(experts, worldSize()));
        }
        return experts / ep;
    }

    /** The first expert this rank holds. */
    public int firstExpert(int experts) {
        return expertRank() * localExperts(experts);
    }

    /** Whether the token all-to-alls send bfloat16 ({@code parallel.comm_dtype=bf16}). */
    public boolean bf16() {
        return bf16;
    }

    /** Bytes this rank has sent in MoE all-to-alls (counts and tokens, forward and backward) so far. */
    public long bytesSent() {
        return bytesSent;
    }

    void addBytesSent(long bytes) {
        bytesSent += bytes;
    }

    /**
     * Wall time this rank has spent in the token all-to-alls so far (four per MoE layer and step,
     * bf16 conversions included), waiting for slower ranks included.
     */
    public long exchangeNanos() {
        return exchangeNanos;
    }

    void addExchangeNanos(long nanos) {
        exchangeNanos += nanos;
    }
}
