package org.moe4j.train;

import java.util.List;
import org.moe4j.nn.ConfigCheck;

/**
 * How a run over W ranks is laid out ({@code parallel} in configs; one process ignores it). See
 * {@code docs/distributed.md}.
 *
 * @param ep             expert-parallel size: experts sharded over groups of {@code ep} ranks and
 *                       replicated over the {@code dp = W/ep} groups; 0 (the default) is the largest
 *                       divisor of {@code moe.experts} that divides W. Must divide W and E
 * @param shardOptimizer ZeRO stage 1: each rank keeps and updates the AdamW moments of its 1/dp
 *                       slice of its experts and 1/W slice of the dense parameters, then the updated
 *                       slices are all-gathered; false keeps every moment on every rank that holds the
 *                       parameter
 * @param commDtype      {@code fp32}, or {@code bf16}: the token all-to-alls send bfloat16 (rounded
 *                       to nearest even, half the bytes) and compute in fp32 on both sides
 */
public record ParallelConfig(int ep, boolean shardOptimizer, String commDtype) {

    /** Values {@code parallel.comm_dtype} accepts. */
    public static final List<String> COMM_DTYPES = List.of("fp32", "bf16");

    /** The default layout (ep from the world size), moments on every rank, fp32 on the wire. */
    public static final ParallelConfig DEFAULT = new ParallelConfig(0, false, "fp32");

    public ParallelConfig {
        ConfigCheck.atLeast("parallel.ep", ep, 0);
        if (!COMM_DTYPES.contains(commDtype)) {
            throw new IllegalArgumentException("parallel.comm_dtype=" + commDtype + " is not allowed: must be one of "
                    + COMM_DTYPES);
        }
    }

    /** Whether the token all-to-alls carry bfloat16. */
    public boolean bf16() {
        return commDtype.equals("bf16");
    }
}
