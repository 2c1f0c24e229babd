package org.moe4j.distributed;

/**
 * What {@link ProcessGroup#allToAll(float[], int[])} received.
 *
 * @param data   the received floats, rank 0's block first, then rank 1's, ... (sum(counts) floats)
 * @param counts counts[p] = number of floats received from rank p (length W; zero is normal)
 */
public record AllToAllResult(float[] data, int[] counts) {
    /** Offset in {@link #data} of the block from rank p. */
    public int offset(int p) {
        int offset = 0;
        for (int q = 0; q < p; q++) {
            offset += counts[q];
        }
        return offset;
    }
}
