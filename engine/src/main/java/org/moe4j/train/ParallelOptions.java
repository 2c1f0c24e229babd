package org.moe4j.train;

import java.util.List;

/**
 * The parallel settings a plan is made for, as the {@code parallel} part of a training config
 * names them: {@code ep} (experts sharded over ep ranks, replicated over {@code dp = W/ep} groups;
 * 0: the largest divisor of E that divides W), {@code shard_optimizer} (ZeRO stage 1: the AdamW
 * moments of replicated parameters split over their replicas) and {@code comm_dtype} (the element
 * type of the token all-to-alls on the wire).
 *
 * @param ep             expert-parallel ranks; 0 for the default
 * @param shardOptimizer whether AdamW moments of replicated parameters are sharded (ZeRO-1)
 * @param commDtype      {@code fp32} or {@code bf16}
 */
public record ParallelOptions(int ep, boolean shardOptimizer, String commDtype) {
    /** Element types the token all-to-alls may use. */
    public static final List<String> COMM_DTYPES = List.of("fp32", "bf16");
    /** What a run uses when nothing is set: the default ep, moments on every replica, fp32 on the wire. */
    public static final ParallelOptions DEFAULT = new ParallelOptions(0, false, "fp32");

    public ParallelOptions {
        if (ep < 0) {
            throw new IllegalArgumentException("parallel.ep=" + ep + " is not allowed: must be 0 (the default) or a"
                    + " number of ranks");
        }
        if (!COMM_DTYPES.contains(commDtype)) {
            throw new IllegalArgumentException("parallel.comm_dtype=" + commDtype + " is not allowed: must be one of "
                    + COMM_DTYPES);
        }
    }

    /**
     * The settings {@code config} trains with. This build's {@link TrainConfig} has no
     * {@code parallel} field yet: it trains with {@link #DEFAULT} (ep = W, fp32), so that is what
     * this returns; the one place to read {@code config.parallel()} once it has.
     */
    public static ParallelOptions of(TrainConfig config) {
        return DEFAULT;
    }

    /** These settings with the given ones replaced; null keeps a setting. */
    public ParallelOptions with(Integer newEp, Boolean newShardOptimizer, String newCommDtype) {
        return new ParallelOptions(newEp != null ? newEp : ep,
                newShardOptimizer != null ? newShardOptimizer : shardOptimizer,
                newCommDtype != null ? newCommDtype : commDtype);
    }

    /** Bytes of one element of a token all-to-all. */
    public int commBytes() {
        return commDtype.equals("bf16") ? 2 : 4;
    }
}
