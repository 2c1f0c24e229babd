package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every collective on 1 to 4 ranks in this JVM, with uneven and zero counts. */
class CollectivesTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    /** How long the last rank waits for a rank to come out of a barrier it has not entered yet. */
    private static final Duration EARLY_EXIT = Duration.ofMillis(50);
    private static final LoopbackCluster[] CLUSTERS = new LoopbackCluster[5];

    @BeforeAll
    static void startClusters() throws Exception {
        for (int w = 1; w <= 4; w++) {
            CLUSTERS[w] = LoopbackCluster.start(w);
        }
    }

    @AfterAll
    static void stopClusters() {
        for (LoopbackCluster c : CLUSTERS) {
            if (c != null) {
                c.close();
            }
        }
    }

    /**
     * Floats rank s sends to rank d: rank 0 sends nothing, rank W-1 receives nothing (when W > 1),
     * other pairs get uneven counts, some zero.
     */
    static int count(int s, int d, int w) {
        if (w > 1 && (s == 0 || d == w - 1)) {
            return 0;
        }
        return (s * 3 + d * 5 + 1) % 4 * (d + 1);
    }

    static float value(int s, int d, int k) {
        return s * 10_000 + d * 100 + k;
    }

    static int[] sendCounts(int s, int w) {
        int[] counts = new int[w];
        for (int d = 0; d < w; d++) {
            counts[d] = count(s, d, w);
        }
        return counts;
    }

    static float[] sendData(int s, int w) {
        float[] data = new float[Arrays.stream(sendCounts(s, w)).sum()];
        int i = 0;
        for (int d = 0; d < w; d++) {
            for (int k = 0; k < count(s, d, w); k++) {
                data[i++] = value(s, d, k);
            }
        }
        return data;
    }

    static void checkReceived(int d, int w, float[] data, int[] counts) {
        int i = 0;
        for (int s = 0; s < w; s++) {
            assertEquals(count(s, d, w), counts[s], "count from rank " + s + " to rank " + d);
            for (int k = 0; k < counts[s]; k++) {
                assertEquals(value(s, d, k), data[i++], "element " + k + " from rank " + s + " to rank " + d);
            }
        }
        assertEquals(i, data.length);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allToAllExchangesUnevenAndZeroCounts(int w) {
        var outcomes = CLUSTERS[w].run(g -> g.allToAll(sendData(g.rank(), w), sendCounts(g.rank(), w)), LIMIT);
        for (int d = 0; d < w; d++) {
            AllToAllResult r = outcomes.get(d).get();
            checkReceived(d, w, r.data(), r.counts());
        }
        if (w > 1) {
            assertEquals(0, outcomes.get(w - 1).get().data().length, "the last rank receives nothing");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allToAllWithKnownCounts(int w) {
        var outcomes = CLUSTERS[w].run(g -> {
            int d = g.rank();
            int[] recvCounts = new int[w];
            for (int s = 0; s < w; s++) {
                recvCounts[s] = count(s, d, w);
            }
            float[] recv = new float[Arrays.stream(recvCounts).sum()];
            g.allToAll(sendData(d, w), sendCounts(d, w), recv, recvCounts);
            checkReceived(d, w, recv, recvCounts);
            return true;
        }, LIMIT);
        outcomes.forEach(LoopbackCluster.Outcome::get);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allToAllOfIntBlocks(int w) {
        var outcomes = CLUSTERS[w].run(g -> {
            int[] send = new int[3 * w];
            for (int i = 0; i < send.length; i++) {
                send[i] = g.rank() * 1000 + i;
            }
            return g.allToAll(send);
        }, LIMIT);
        for (int d = 0; d < w; d++) {
            int[] got = outcomes.get(d).get();
            for (int s = 0; s < w; s++) {
                for (int k = 0; k < 3; k++) {
                    assertEquals(s * 1000 + d * 3 + k, got[s * 3 + k], "block from rank " + s + " at rank " + d);
                }
            }
        }
    }

    static float[] randomData(int rank, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed * 31 + rank);
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) (random.nextDouble() * 2 - 1) * (1 << random.nextInt(8));
        }
        return data;
    }

    /** The documented order: chunk c summed from rank c around the ring. */
    static float[] ringOrderSum(float[][] inputs, int n) {
        int w = inputs.length;
        float[] sum = new float[n];
        for (int c = 0; c < w; c++) {
            int start = (int) ((long) n * c / w);
            int end = (int) ((long) n * (c + 1) / w);
            for (int i = start; i < end; i++) {
                float acc = inputs[c][i];
                for (int k = 1; k < w; k++) {
                    acc = inputs[(c + k) % w][i] + acc;
                }
                sum[i] = acc;
            }
        }
        return sum;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void allReduceSumIsDeterministicAndEqualOnAllRanks(int w) {
        for (int n : new int[] {0, 1, 3, 1000, 200_003}) {
            float[][] inputs = new float[w][];
            for (int r = 0; r < w; r++) {
                inputs[r] = randomData(r, n, n);
            }
            float[] expected = ringOrderSum(inputs, n);
            for (int repeat = 0; repeat < 2; repeat++) {
                List<LoopbackCluster.Outcome<float[]>> outcomes = CLUSTERS[w].run(g -> {
                    float[] data = randomData(g.rank(), n, n);
                    g.allReduceSum(data);
                    return data;
                }, LIMIT);
                for (int r = 0; r < w; r++) {
                    assertArrayEquals(expected, outcomes.get(r).get(), "rank " + r + ", n=" + n + ", W=" + w);
                }
            }
            for (int i = 0; i < n; i++) {
                double sequential = 0;
                for (int r = 0; r < w; r++) {
                    sequential += inputs[r][i];
                }
                assertTrue(Math.abs(expected[i] - sequential) <= 1e-5 + 1e-5 * Math.abs(sequential),
                        "index " + i + ": " + expected[i] + " vs sequential " + sequential);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void broadcastFromEveryRoot(int w) {
        for (int root = 0; root < w; root++) {
            for (int n : new int[] {0, 5, 70_000}) {
                int fixedRoot = root;
                var outcomes = CLUSTERS[w].run(g -> {
                    float[] data = g.rank() == fixedRoot ? randomData(fixedRoot, n, 7) : new float[n];
                    g.broadcast(data, fixedRoot);
                    return data;
                }, LIMIT);
                for (int r = 0; r < w; r++) {
                    assertArrayEquals(randomData(root, n, 7), outcomes.get(r).get(), "rank " + r + " root " + root);
                }
            }
        }
    }

    /**
     * Each rank in turn enters the barrier last: only once the others are in it, and after giving a
     * barrier that lets them out early the time to do so. Every rank must leave it having seen all
     * W ranks enter.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void barrierHoldsEveryRankUntilTheLastHasEntered(int w) {
        for (int late = 0; late < w; late++) {
            int lateRank = late;
            AtomicInteger entered = new AtomicInteger();
            CountDownLatch othersEntering = new CountDownLatch(w - 1);
            CountDownLatch someoneLeft = new CountDownLatch(1);
            var outcomes = CLUSTERS[w].run(g -> {
                if (g.rank() == lateRank) {
                    LoopbackCluster.await(othersEntering, LIMIT);
                    // with a working barrier nobody leaves: this waits the whole EARLY_EXIT
                    LoopbackCluster.await(someoneLeft, EARLY_EXIT);
                    entered.incrementAndGet();
                } else {
                    entered.incrementAndGet();
                    othersEntering.countDown();
                }
                g.barrier();
                int seen = entered.get();
                someoneLeft.countDown();
                return seen;
            }, LIMIT);
            for (int r = 0; r < w; r++) {
                assertEquals(w, outcomes.get(r).get(), "ranks that had entered the barrier when rank " + r
                        + " left it, with rank " + late + " entering last");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void barrierAndAllGatherInAMixedSequence(int w) {
        var outcomes = CLUSTERS[w].run(g -> {
            long[] last = null;
            for (int i = 0; i < 20; i++) {
                g.barrier();
                last = g.allGather(g.rank() * 100L + i - (1L << 40));
                float[] one = {g.rank()};
                g.allReduceSum(one);
                if (one[0] != w * (w - 1) / 2f) {
                    throw new AssertionError("iteration " + i + ": sum " + one[0]);
                }
            }
            return last;
        }, LIMIT);
        for (int r = 0; r < w; r++) {
            long[] values = outcomes.get(r).get();
            for (int p = 0; p < w; p++) {
                assertEquals(p * 100L + 19 - (1L << 40), values[p], "value of rank " + p + " at rank " + r);
            }
        }
    }
}
