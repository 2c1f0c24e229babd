package org.moe4j.distributed;

import java.util.List;

/**
 * {@link ProcessGroup#join} failed: a rank did not arrive before the rendezvous timeout, rank 0
 * could not be reached, or this process was refused (wrong secret, job id, version, or a duplicate
 * rank). {@link #missingRanks()} lists the ranks that never joined, where this rank knows them.
 */
public class RendezvousException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<Integer> missingRanks;

    RendezvousException(String message, List<Integer> missingRanks, Throwable cause) {
        super(message, cause);
        this.missingRanks = List.copyOf(missingRanks);
    }

    /** The ranks that never joined, in increasing order (empty when not known here). */
    public List<Integer> missingRanks() {
        return missingRanks;
    }
}
