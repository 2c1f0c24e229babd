package org.moe4j.distributed;

/**
 * A collective failed: a malformed or unexpected frame, a lost peer (see {@link PeerLostException})
 * or a call on a group that failed earlier. The message names the operation, its sequence number
 * (the n-th collective of the group, the same on every rank), the step set with
 * {@link ProcessGroup#setStep} if any, this rank and the peer involved. After one, the group is
 * unusable: every later call fails at once.
 */
public class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final long sequence;
    private final int rank;
    private final int peerRank;

    CollectiveException(String operation, long sequence, long step, int rank, int peerRank, String detail,
            Throwable cause) {
        super(operation + " #" + sequence + (step >= 0 ? " (step " + step + ")" : "") + " on rank " + rank + ": "
                + detail, cause);
        this.operation = operation;
        this.sequence = sequence;
        this.rank = rank;
        this.peerRank = peerRank;
    }

    /** The collective, e.g. {@code "allReduceSum"}. */
    public String operation() {
        return operation;
    }

    /** The sequence number of the collective within its group, counted from 1. */
    public long sequence() {
        return sequence;
    }

    /** The rank that raised this exception. */
    public int rank() {
        return rank;
    }

    /** The peer that sent the bad frame or was lost, or -1 when none is known. */
    public int peerRank() {
        return peerRank;
    }
}
