package org.moe4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.moe4j.moe.MoeConfig;

/**
 * How a run spreads over W ranks: {@code world = ep × dp}. The experts of every MoE layer are
 * sharded over the ep ranks of an expert-parallel group (E/ep each) and replicated over the dp
 * groups; every other parameter is replicated on all W ranks; the global batch is split over all
 * W ranks (B/W sequences each). A dense model has no experts to shard: ep is 1.
 *
 * @param world          W, ranks in all
 * @param ep             ranks an MoE layer's experts are sharded over
 * @param dp             replicas of each expert, {@code W/ep}
 * @param options        the settings the layout was made from, ep resolved
 */
public record ParallelLayout(int world, int ep, int dp, ParallelOptions options) {

    /**
     * The layout of {@code config} on {@code world} ranks.
     *
     * @throws IllegalArgumentException for a layout that does not divide: ep not a divisor of W or
     *                                  of E, or a batch that does not split over W; the message
     *                                  names the numbers and the values that would divide
     */
    public static ParallelLayout of(TrainConfig config, int world, ParallelOptions options) {
        if (world < 1) {
            throw new IllegalArgumentException("the world size must be at least 1, got " + world);
        }
        if (config.batchSize() % world != 0) {
            throw new IllegalArgumentException("batch_size=" + config.batchSize() + " is not divisible by the world size "
                    + world + ": every rank takes batch_size/W sequences of the global batch; use a multiple of "
                    + world + " (" + (config.batchSize() / world + 1) * world + ")");
        }
        MoeConfig moe = config.model().moe();
        int ep = options.ep();
        if (moe == null) {
            if (ep > 1) {
                throw new IllegalArgumentException("--ep " + ep + ": a dense model has no experts to shard (ep is 1)");
            }
            return new ParallelLayout(world, 1, world, new ParallelOptions(1, options.shardOptimizer(),
                    options.commDtype()));
        }
        int experts = moe.experts();
        if (ep == 0) {
            ep = IntStream.rangeClosed(1, world).filter(d -> world % d == 0 && experts % d == 0).max().orElse(1);
        }
        if (world % ep != 0) {
            throw new IllegalArgumentException("ep=" + ep + " does not divide the world size " + world
                    + ": world = ep x dp; ep may be one of " + divisors(world, experts));
        }
        if (experts % ep != 0) {
            throw new IllegalArgumentException("moe.experts=" + experts + " is not divisible by ep=" + ep
                    + ": every rank of an expert-parallel group holds E/ep experts; ep may be one of "
                    + divisors(world, experts) + ", or choose moe.experts a multiple of " + ep);
        }
        return new ParallelLayout(world, ep, world / ep, new ParallelOptions(ep, options.shardOptimizer(),
                options.commDtype()));
    }

    /** The ep that divide both W and E. */
    private static List<Integer> divisors(int world, int experts) {
        return IntStream.rangeClosed(1, world).filter(d -> world % d == 0 && experts % d == 0).boxed().toList();
    }

    /** Whether AdamW moments of replicated parameters are sharded over their replicas (ZeRO-1). */
    public boolean shardOptimizer() {
        return options.shardOptimizer();
    }

    /** Bytes of one element of a token all-to-all: 4 for fp32, 2 for bf16. */
    public int commBytes() {
        return options.commBytes();
    }

    /**
     * What of this layout this build cannot train yet (empty when it can): it trains experts
     * sharded over all W ranks (ep = W), moments on every rank, fp32 on the wire.
     */
    public List<String> notBuilt(boolean moe) {
        List<String> missing = new ArrayList<>();
        if (moe && dp > 1) {
            missing.add("dp = " + dp + " expert replicas (this build shards experts over all W ranks: ep = W)");
        }
        if (options.shardOptimizer() && world > 1) {
            missing.add("shard_optimizer (ZeRO-1)");
        }
        if (options.commBytes() != 4 && moe && ep > 1) {
            missing.add("comm_dtype " + options.commDtype());
        }
        return missing;
    }

    @Override
    public String toString() {
        return "world " + world + " = ep " + ep + " x dp " + dp;
    }
}
