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

    private static void checkSurvivors(List<LoopbackCluster.Outcome<Object>> outcomes, String op, long limitMillis) {
        for (int r = 0; r < W; r++) {
            if (r == VICTIM) {
                continue;
            }
            LoopbackCluster.Outcome<Object> o = outcomes.get(r);
            assertNotNull(o.error(), "rank " + r + " should have failed");
            PeerLostException e = assertInstanceOf(PeerLostException.class, o.error(), String.valueOf(o.error()));
            assertEquals(VICTIM, e.lostRank(), e.getMessage());
            assertTrue(e.getMessage().startsWith(op + " #1 (step 41) on rank " + r + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("rank " + VICTIM), e.getMessage());
            assertTrue(o.millis() <= limitMillis, "rank " + r + " took " + o.millis() + " ms: " + e.getMessage());
        }
    }

    @Test
    void peerClosingMidFrameFailsEveryRank() throws Exception {
        // the victim starts its first ring frame to rank 0, stops half-way and closes everything
        var outcomes = run(Duration.ofSeconds(10), g -> g.allReduceSum(new float[3000]), g -> {
            try {
                RawFrames.writeHeader(g.channelTo(0), Frame.MAGIC, Op.ALL_REDUCE_SUM, 1, VICTIM, 4000);
                g.channelTo(0).write(java.nio.ByteBuffer.allocate(10));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            g.close();
        });
        checkSurvivors(outcomes, "allReduceSum", 5000);
    }

    @Test
    void peerClosingDuringAllToAllFailsEveryRank() throws Exception {
        var outcomes = run(Duration.ofSeconds(10),
                g -> g.allToAll(new float[3 * 1000], new int[] {1000, 1000, 1000}), ProcessGroup::close);
        checkSurvivors(outcomes, "allToAll", 5000);
    }

    @Test
    void stalledPeerTimesOutInAllReduce() throws Exception {
        CountDownLatch othersDone = new CountDownLatch(W - 1);
        var outcomes = run(Duration.ofMillis(1500), g -> {
            try {
                g.allReduceSum(new float[3000]);
            } finally {
                othersDone.countDown();
            }
        }, g -> LoopbackCluster.await(othersDone, Duration.ofSeconds(20)));
        checkSurvivors(outcomes, "allReduceSum", 2500);
        assertTrue(outcomes.get(0).error().getMessage().contains("collective timeout of 1.5 s"));
        for (int r = 0; r < W - 1; r++) {
            assertTrue(outcomes.get(r).millis() >= 1000, "rank " + r + " gave up after " + outcomes.get(r).millis());
        }
    }

    @Test
    void stalledPeerTimesOutInAllToAll() throws Exception {
        CountDownLatch othersDone = new CountDownLatch(W - 1);
        var outcomes = run(Duration.ofMillis(1500), g -> {
            try {
                g.allToAll(new float[] {1, 2}, new int[] {1, 1, 0});
            } finally {
                othersDone.countDown();
            }
        }, g -> LoopbackCluster.await(othersDone, Duration.ofSeconds(20)));
        checkSurvivors(outcomes, "allToAll", 2500);
    }
}
