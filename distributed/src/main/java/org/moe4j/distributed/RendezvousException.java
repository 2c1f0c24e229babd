package org.moe4j.distributed;

import java.util.List;

/**
 * {@link ProcessGroup#join} failed: a rank did not arrive before the rendezvous timeout, rank 0
 * could not be reached, or this process was refused (wrong secret, job id, version, or a duplicate
 * rank). On a timeout, {@link #missingRanks()} lists the ranks that never joined on every rank:
 * rank 0 knows them from its store, the others from rank 0's reports, and rank 0 itself when it
 * could not be reached.
 */
public class RendezvousException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<Integer> missingRanks;

    RendezvousException(String message, List<Integer> missingRanks, Throwable cause) {
        super(message, cause);
        this.missingRanks = List.copyOf(missingRanks);
    }

    /** The ranks that never joined, in increasing order (empty when this is no timeout, or none is known). */
    public List<Integer> missingRanks() {
        return missingRanks;
    }
}
