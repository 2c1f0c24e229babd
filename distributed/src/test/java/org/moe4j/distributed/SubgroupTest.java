package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Subgroups over the connections of a group (the expert-parallel and data-parallel groups of an
 * {@code ep × dp} layout), the two halves of the ring all-reduce, and all-to-all of 16-bit values.
 */
class SubgroupTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static LoopbackCluster four;

    @BeforeAll
    static void start() throws Exception {
        four = LoopbackCluster.start(4);
    }

    @AfterAll
    static void stop() {
        four.close();
    }

    /** Rows {0,1} and {2,3} exchange inside themselves; columns {0,2} and {1,3} sum inside theirs; the world in between. */
    @Test
    void rowAndColumnGroupsRunInterleavedWithTheWorld() {
        var outcomes = four.run(g -> {
            int r = g.rank();
            ProcessGroup row = g.subgroup(r < 2 ? new int[] {0, 1} : new int[] {2, 3});
            ProcessGroup column = g.subgroup(r % 2 == 0 ? new int[] {0, 2} : new int[] {1, 3});
            float[] got = new float[2];
            for (int i = 0; i < 5; i++) {
                // row all-to-all: one value to each row member
                float[] send = {100 * r + i, 100 * r + 10 + i};
                row.allToAll(send, new int[] {1, 1}, got, new int[] {1, 1});
                float[] sum = {r};
                column.allReduceSum(sum);
                long[] everyone = g.allGather(r);
                if (sum[0] != (r % 2 == 0 ? 2 : 4) || everyone.length != 4 || everyone[3] != 3) {
                    throw new AssertionError("iteration " + i + ": column sum " + sum[0] + ", world " + Arrays.toString(everyone));
                }
            }
            return new Object[] {row.rank(), row.worldSize(), column.rank(), got};
        }, LIMIT);
        for (int r = 0; r < 4; r++) {
            Object[] o = outcomes.get(r).get();
            assertEquals(r % 2, o[0], "row rank of rank " + r);
            assertEquals(2, o[1]);
            assertEquals(r / 2, o[2], "column rank of rank " + r);
            int first = r / 2 * 2;
            // what row members first and first+1 sent to this one, at the last iteration
            assertArrayEquals(new float[] {100 * first + 10 * (r % 2) + 4, 100 * (first + 1) + 10 * (r % 2) + 4},
                    (float[]) o[3], "rank " + r);
        }
    }

    /** reduceScatterSum leaves chunk r summed on rank r, from rank r + 1 around the ring; allGatherChunks completes the sum. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void reduceScatterThenAllGatherIsAnAllReduceWithTheDocumentedOrder(int w) throws Exception {
        try (LoopbackCluster cluster = w == 4 ? null : LoopbackCluster.start(w)) {
            LoopbackCluster c = w == 4 ? four : cluster;
            for (int n : new int[] {0, 1, 5, 10_001}) {
                float[][] inputs = new float[w][];
                for (int r = 0; r < w; r++) {
                    inputs[r] = CollectivesTest.randomData(r, n, 3 + n);
                }
                var outcomes = c.run(g -> {
                    float[] data = CollectivesTest.randomData(g.rank(), n, 3 + n);
                    g.reduceScatterSum(data);
                    float[] mine = Arrays.copyOfRange(data, g.chunkStart(n, g.rank()), g.chunkStart(n, g.rank() + 1));
                    g.allGatherChunks(data);
                    return new float[][] {mine, data};
                }, LIMIT);
                float[] expected = new float[n];
                for (int chunk = 0; chunk < w; chunk++) {
                    int from = (int) ((long) n * chunk / w);
                    int to = (int) ((long) n * (chunk + 1) / w);
                    for (int i = from; i < to; i++) {
                        float acc = inputs[(chunk + 1) % w][i];
                        for (int k = 2; k <= w; k++) {
                            acc = inputs[(chunk + k) % w][i] + acc;
                        }
                        expected[i] = acc;
                    }
                }
                for (int r = 0; r < w; r++) {
                    float[][] got = outcomes.get(r).get();
                    int from = (int) ((long) n * r / w);
                    assertArrayEquals(Arrays.copyOfRange(expected, from, from + got[0].length), got[0],
                            "chunk " + r + " on rank " + r + ", n=" + n);
                    assertArrayEquals(expected, got[1], "all chunks on rank " + r + ", n=" + n);
                }
            }
        }
    }

    @Test
    void shortAllToAllInASubgroupWithZeroCounts() {
        var outcomes = four.run(g -> {
            ProcessGroup odd = g.rank() % 2 == 1 ? g.subgroup(new int[] {3, 1}) : g.subgroup(new int[] {0, 2});
            int me = odd.rank();
            // member 0 sends 3 values to member 1 and none to itself; member 1 sends 1 to 0 and 2 to itself
            int[] sendCounts = me == 0 ? new int[] {0, 3} : new int[] {1, 2};
            int[] recvCounts = me == 0 ? new int[] {0, 1} : new int[] {3, 2};
            short[] send = new short[Arrays.stream(sendCounts).sum()];
            for (int i = 0; i < send.length; i++) {
                send[i] = (short) (-30000 + 1000 * g.rank() + i);
            }
            short[] recv = new short[Arrays.stream(recvCounts).sum()];
            odd.allToAll(send, sendCounts, recv, recvCounts);
            return recv;
        }, LIMIT);
        // subgroup {3, 1}: rank 3 is member 0, rank 1 member 1
        assertArrayEquals(new short[] {-27000, -26999, -26998, -28999, -28998}, outcomes.get(1).get());
        assertArrayEquals(new short[] {-29000}, outcomes.get(3).get());
        assertArrayEquals(new short[] {-30000, -29999, -29998, -27999, -27998}, outcomes.get(2).get());
        assertArrayEquals(new short[] {-28000}, outcomes.get(0).get());
    }

    @Test
    void aSubgroupMustIncludeThisRankOnceAndOnlyRanksOfTheGroup() {
        ProcessGroup g = four.groups.get(1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> g.subgroup(new int[] {0, 2})).getMessage()
                .contains("does not include this process's rank 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> g.subgroup(new int[] {1, 4})).getMessage()
                .contains("rank 4 is not in [0, 4)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> g.subgroup(new int[] {1, 1})).getMessage()
                .contains("rank 1 is repeated"));
    }

    /** A member lost in a subgroup collective is named by its rank in the whole group, and the whole group is failed. */
    @Test
    void aLostMemberIsNamedByItsRankAndFailsTheWholeGroup() throws Exception {
        try (LoopbackCluster cluster = LoopbackCluster.start(4, Duration.ofSeconds(10))) {
            List<LoopbackCluster.Outcome<Object>> outcomes = cluster.run(g -> {
                ProcessGroup pair = g.subgroup(g.rank() < 2 ? new int[] {0, 1} : new int[] {2, 3});
                pair.setStep(7);
                if (g.rank() == 3) {
                    g.close();
                    return null;
                }
                if (g.rank() == 2) {
                    pair.allReduceSum(new float[100]);
                } else {
                    pair.barrier();
                    g.barrier();
                }
                return null;
            }, Duration.ofSeconds(20));
            for (int r = 0; r < 3; r++) {
                Throwable e = outcomes.get(r).error();
                assertNotNull(e, "rank " + r + " should have failed");
                PeerLostException lost = assertInstanceOf(PeerLostException.class, e, String.valueOf(e));
                assertEquals(3, lost.lostRank(), lost.getMessage());
                assertTrue(lost.getMessage().contains("(step 7) on rank " + r + ": "), lost.getMessage());
                assertTrue(cluster.groups.get(r).failed(), "rank " + r + "'s whole group is failed");
            }
        }
    }
}
