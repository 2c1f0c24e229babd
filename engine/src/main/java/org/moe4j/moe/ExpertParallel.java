package org.moe4j.moe;

import java.util.Objects;
import org.moe4j.distributed.ProcessGroup;

/**
 * Expert parallelism over a {@link ProcessGroup} of W ranks: rank r holds experts
 * {@code [r·E/W, (r+1)·E/W)} of every MoE layer, and tokens travel to their experts' owners and
 * back with two all-to-alls per forward (and two in the backward pass). The global batch is the
 * concatenation of the ranks' batches in rank order, and every routing decision (capacity slots,
 * drops, auxiliary losses, statistics) is the one a single process makes on that global batch.
 *
 * <p>Also counts the bytes this rank sends in the MoE all-to-alls, for reports.
 */
public final class ExpertParallel {
    private final ProcessGroup group;
    private long bytesSent;

    public ExpertParallel(ProcessGroup group) {
        this.group = Objects.requireNonNull(group, "group");
    }

    public ProcessGroup group() {
        return group;
    }

    public int rank() {
        return group.rank();
    }

    public int worldSize() {
        return group.worldSize();
    }

    /** Experts per rank, {@code E/W}; E not divisible by W is a configuration error. */
    public int localExperts(int experts) {
        if (experts % worldSize() != 0) {
            throw new IllegalArgumentException("moe.experts=" + experts + " is not divisible by the world size "
                    + worldSize() + ": expert parallelism gives every rank E/W experts");
        }
        return experts / worldSize();
    }

    /** The first expert this rank holds. */
    public int firstExpert(int experts) {
        return rank() * localExperts(experts);
    }

    /** Bytes this rank has sent in MoE all-to-alls (counts and tokens, forward and backward) so far. */
    public long bytesSent() {
        return bytesSent;
    }

    void addBytesSent(long bytes) {
        bytesSent += bytes;
    }
}
