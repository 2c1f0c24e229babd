package org.moe4j.moe;

import java.util.Arrays;

/**
 * What the ranks tell each other before capacity is assigned: every rank's token count and its
 * assignments to each expert by choice rank, {@code count[q][r][x]}, in blocks of
 * {@code 1 + J·E} ints ({@link #block}). The global batch is the ranks' tokens concatenated in rank
 * order, and its priority order is choice rank outer, global token inner; so rank q's assignments
 * of choice rank r to expert x take the consecutive slots from
 * {@code start(q,r,x) = Σ_{r'<r} Σ_{q'} count[q'][r'][x] + Σ_{q'<q} count[q'][r][x]}. Every rank
 * computes the same table, so capacity, drops and statistics are those of one process on the
 * global batch. With one rank the table is that rank's block alone, and nothing of it is anyone
 * else's.
 */
final class CountTable {
    private final int[] table;
    private final int worldSize;
    private final int rank;
    private final int j;
    private final int e;
    private final int globalTokens;

    /**
     * @param table {@code worldSize} blocks of {@link #block}, in rank order; not modified
     * @param rank  the rank reading it
     */
    CountTable(int[] table, int worldSize, int rank, int j, int e) {
        if (table.length != worldSize * (1 + j * e)) {
            throw new IllegalArgumentException("count table of " + table.length + " ints for " + worldSize
                    + " ranks of 1 + " + j + "·" + e);
        }
        this.table = table;
        this.worldSize = worldSize;
        this.rank = rank;
        this.j = j;
        this.e = e;
        long total = 0;
        for (int q = 0; q < worldSize; q++) {
            total += table[q * (1 + j * e)];
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("global batch of " + total + " tokens is too large");
        }
        this.globalTokens = (int) total;
    }

    /** The block a rank contributes: its token count, then {@code counts (J,E)}. */
    static int[] block(int tokens, int[] counts) {
        int[] block = new int[1 + counts.length];
        block[0] = tokens;
        System.arraycopy(counts, 0, block, 1, counts.length);
        return block;
    }

    /** N, the tokens of all ranks. */
    int globalTokens() {
        return globalTokens;
    }

    /** (E) every rank's assignments to each expert before capacity. */
    int[] chosen() {
        int[] chosen = new int[e];
        for (int q = 0; q < worldSize; q++) {
            for (int r = 0; r < j; r++) {
                for (int x = 0; x < e; x++) {
                    chosen[x] += count(q, r, x);
                }
            }
        }
        return chosen;
    }

    /** The largest {@link #chosen()}: the capacity that drops nothing. */
    int largestLoad() {
        return Arrays.stream(chosen()).max().orElse(0);
    }

    /** (J,E) the other ranks' assignments to x ahead of this rank's of choice rank r. */
    int[] others() {
        int[] others = new int[j * e];
        for (int r = 0; r < j; r++) {
            for (int x = 0; x < e; x++) {
                others[r * e + x] = start(rank, r, x) - mineBefore(r, x);
            }
        }
        return others;
    }

    /** (E) the other ranks' assignments to each expert. */
    int[] otherTotals() {
        int[] totals = chosen();
        for (int r = 0; r < j; r++) {
            for (int x = 0; x < e; x++) {
                totals[x] -= count(rank, r, x);
            }
        }
        return totals;
    }

    /**
     * Which rank each slot of this rank's experts {@code [first, first + local)} is filled from, or −1
     * for a slot nobody fills, at the given capacity.
     *
     * @return (local·C)
     */
    int[] slotSources(int first, int local, int capacity) {
        int[] sources = new int[local * capacity];
        Arrays.fill(sources, -1);
        for (int xl = 0; xl < local; xl++) {
            for (int q = 0; q < worldSize; q++) {
                for (int r = 0; r < j; r++) {
                    int lo = start(q, r, first + xl);
                    int hi = Math.min(capacity, lo + count(q, r, first + xl));
                    for (int s = lo; s < hi; s++) {
                        sources[xl * capacity + s] = q;
                    }
                }
            }
        }
        return sources;
    }

    private int count(int q, int r, int x) {
        return table[q * (1 + j * e) + 1 + r * e + x];
    }

    /** This rank's own assignments to x of choice ranks below r. */
    private int mineBefore(int r, int x) {
        int sum = 0;
        for (int lower = 0; lower < r; lower++) {
            sum += count(rank, lower, x);
        }
        return sum;
    }

    /** First global slot of rank q's assignments of choice rank r to expert x. */
    private int start(int q, int r, int x) {
        int s = 0;
        for (int lower = 0; lower < r; lower++) {
            for (int p = 0; p < worldSize; p++) {
                s += count(p, lower, x);
            }
        }
        for (int p = 0; p < q; p++) {
            s += count(p, r, x);
        }
        return s;
    }
}
