package org.moe4j.train;

import org.moe4j.moe.ExpertParallel;
import org.moe4j.moe.MoeConfig;

/**
 * How a run spreads over W ranks: {@code world = ep × dp}. The experts of every MoE layer are
 * sharded over the ep ranks of an expert-parallel group (E/ep each) and replicated over the dp
 * groups; every other parameter is replicated on all W ranks; the global batch is split over all
 * W ranks (B/W sequences each). A dense model has no experts to shard: ep is 1. The plan's view of
 * what {@link ExpertParallel#of} lays out for a run.
 *
 * @param world    W, ranks in all
 * @param ep       ranks an MoE layer's experts are sharded over
 * @param dp       replicas of each expert, {@code W/ep}
 * @param parallel the settings the layout was made from
 */
public record ParallelLayout(int world, int ep, int dp, ParallelConfig parallel) {

    /**
     * The layout of {@code config} (its {@code parallel} part) on {@code world} ranks; one process
     * ignores the {@code parallel} part, as a run does (a checkpoint of any layout resumes there).
     */
    public static ParallelLayout of(TrainConfig config, int world) {
        if (world < 1) {
            throw new IllegalArgumentException("the world size must be at least 1, got " + world);
        }
        DataParallel.checkBatch(config, world);
        MoeConfig moe = config.model().moe();
        ParallelConfig parallel = config.parallel();
        int ep = world == 1 ? 1 : ExpertParallel.size(parallel.ep(), moe == null ? 0 : moe.experts(), world);
        return new ParallelLayout(world, ep, world / ep, parallel);
    }

    /** Whether AdamW moments of replicated parameters are sharded over their replicas (ZeRO-1). */
    public boolean shardOptimizer() {
        return parallel.shardOptimizer() && world > 1;
    }

    /** Bytes of one element of a token all-to-all: 4 for fp32, 2 for bf16. */
    public int commBytes() {
        return parallel.bf16() ? 2 : Float.BYTES;
    }

    @Override
    public String toString() {
        return "world " + world + " = ep " + ep + " x dp " + dp;
    }
}
