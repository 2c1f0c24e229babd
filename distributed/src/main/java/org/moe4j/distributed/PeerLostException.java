package org.moe4j.distributed;

/**
 * A peer died, closed its connection, or sent nothing within the collective timeout; or another
 * rank reported such a loss. {@link #lostRank()} is the rank that was lost.
 */
public class PeerLostException extends CollectiveException {
    private static final long serialVersionUID = 1L;

    PeerLostException(String operation, long sequence, long step, int rank, int lostRank, String detail,
            Throwable cause) {
        super(operation, sequence, step, rank, lostRank, detail, cause);
    }

    /** The rank that was lost. */
    public int lostRank() {
        return peerRank();
    }
}
