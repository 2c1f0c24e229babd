package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A peer that closes its sockets mid-collective or stops responding: every other rank fails, naming it, in time. */
class PeerFailureTest {
    private static final int W = 3;
    private static final int VICTIM = 2;
    /** A closed link is seen at once: long enough that a failure by the watchdog would be far too late. */
    private static final Duration CLOSED_TIMEOUT = Duration.ofSeconds(10);
    /** The watchdog suspects a silent peer at timeout - min(2 s, timeout/4); a closed link must be seen before. */
    private static final double BEFORE_THE_WATCHDOG = 0.75;
    /** Short, so that the stalled-peer tests wait little; they fail in [1/2, 2] times it. */
    private static final Duration STALL_TIMEOUT = Duration.ofMillis(1500);

    /** Ranks other than VICTIM run collective; VICTIM runs victim; returns the outcomes. */
    private static List<LoopbackCluster.Outcome<Object>> run(Duration collectiveTimeout, Consumer<ProcessGroup> collective,
            Consumer<ProcessGroup> victim) throws Exception {
        try (LoopbackCluster cluster = LoopbackCluster.start(W, collectiveTimeout)) {
            cluster.groups.forEach(g -> g.setStep(41));
            return cluster.run(g -> {
                if (g.rank() == VICTIM) {
                    victim.accept(g);
                } else {
                    collective.accept(g);
                }
                return null;
            }, collectiveTimeout.plusSeconds(5));
        }
    }

    /**
     * Every rank but the victim failed in op naming it, with reason in its message, after
     * [earliest, latest] of the collective timeout (fractions or multiples of it).
     */
    private static void checkSurvivors(List<LoopbackCluster.Outcome<Object>> outcomes, String op, String reason,
            Duration timeout, double earliest, double latest) {
        for (int r = 0; r < W; r++) {
            if (r == VICTIM) {
                continue;
            }
            LoopbackCluster.Outcome<Object> o = outcomes.get(r);
            assertNotNull(o.error(), "rank " + r + " should have failed");
            PeerLostException e = assertInstanceOf(PeerLostException.class, o.error(), String.valueOf(o.error()));
            assertEquals(VICTIM, e.lostRank(), e.getMessage());
            assertTrue(e.getMessage().startsWith(op + " #1 (step 41) on rank " + r + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
            long low = (long) (timeout.toMillis() * earliest);
            long high = (long) (timeout.toMillis() * latest);
            assertTrue(o.millis() >= low && o.millis() <= high, "rank " + r + " failed after " + o.millis()
                    + " ms, expected " + low + " to " + high + " ms with a collective timeout of " + timeout.toMillis()
                    + " ms: " + e.getMessage());
        }
    }

    @Test
    void peerClosingMidFrameFailsEveryRank() throws Exception {
        // the victim starts its first ring frame to rank 0, stops half-way and closes everything
        var outcomes = run(CLOSED_TIMEOUT, g -> g.allReduceSum(new float[3000]), g -> {
            try {
                RawFrames.writeHeader(g.channelTo(0), Frame.MAGIC, Op.ALL_REDUCE_SUM, 1, VICTIM, 4000);
                g.channelTo(0).write(java.nio.ByteBuffer.allocate(10));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            g.close();
        });
        checkSurvivors(outcomes, "allReduceSum", "rank 2 lost", CLOSED_TIMEOUT, 0, BEFORE_THE_WATCHDOG);
    }

    @Test
    void peerClosingDuringAllToAllFailsEveryRank() throws Exception {
        var outcomes = run(CLOSED_TIMEOUT,
                g -> g.allToAll(new float[3 * 1000], new int[] {1000, 1000, 1000}), ProcessGroup::close);
        checkSurvivors(outcomes, "allToAll", "rank 2 lost", CLOSED_TIMEOUT, 0, BEFORE_THE_WATCHDOG);
    }

    @Test
    void stalledPeerTimesOutInAllReduce() throws Exception {
        CountDownLatch othersDone = new CountDownLatch(W - 1);
        var outcomes = run(STALL_TIMEOUT, g -> {
            try {
                g.allReduceSum(new float[3000]);
            } finally {
                othersDone.countDown();
            }
        }, g -> LoopbackCluster.await(othersDone, Duration.ofSeconds(20)));
        checkSurvivors(outcomes, "allReduceSum", "rank 2 sent nothing within the collective timeout of 1.5 s",
                STALL_TIMEOUT, 0.5, 2);
    }

    @Test
    void stalledPeerTimesOutInAllToAll() throws Exception {
        CountDownLatch othersDone = new CountDownLatch(W - 1);
        var outcomes = run(STALL_TIMEOUT, g -> {
            try {
                g.allToAll(new float[] {1, 2}, new int[] {1, 1, 0});
            } finally {
                othersDone.countDown();
            }
        }, g -> LoopbackCluster.await(othersDone, Duration.ofSeconds(20)));
        checkSurvivors(outcomes, "allToAll", "rank 2 sent nothing within the collective timeout of 1.5 s",
                STALL_TIMEOUT, 0.5, 2);
    }
}
