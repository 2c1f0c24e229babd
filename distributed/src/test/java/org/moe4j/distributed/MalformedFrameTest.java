package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.SocketChannel;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rank 1 writes hand-made frames on its link to rank 0 while rank 0 runs a collective; rank 0
 * must fail with an error naming both ranks, and the group must then refuse further use.
 */
class MalformedFrameTest {
    private static final Duration LIMIT = Duration.ofSeconds(10);
    private LoopbackCluster cluster;
    private ProcessGroup zero;
    private SocketChannel fromOne;

    @BeforeEach
    void setUp() throws Exception {
        cluster = LoopbackCluster.start(2, Duration.ofSeconds(10));
        zero = cluster.groups.get(0);
        fromOne = cluster.groups.get(1).channelTo(0);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private CollectiveException failsOnRankZero(Runnable collective) {
        CollectiveException e = assertTimeoutPreemptively(LIMIT,
                () -> assertThrows(CollectiveException.class, collective::run));
        assertEquals(1, e.peerRank());
        assertTrue(e.getMessage().contains("rank 1") && e.getMessage().contains("rank 0"), e.getMessage());
        CollectiveException after = assertThrows(CollectiveException.class, zero::barrier);
        assertTrue(after.getMessage().contains("failed earlier"), after.getMessage());
        return e;
    }

    @Test
    void badChecksumIsRejected() throws Exception {
        // W = 2, n = 4: rank 0 first receives chunk 1 (2 floats) from rank 1
        RawFrames.write(fromOne, Op.ALL_REDUCE_SUM, 1, 1, RawFrames.floats(1, 2), true);
        CollectiveException e = failsOnRankZero(() -> zero.allReduceSum(new float[4]));
        assertTrue(e.getMessage().startsWith("allReduceSum #1 on rank 0: checksum mismatch"), e.getMessage());
    }

    @Test
    void oversizeFrameIsRejectedWithoutAllocating() throws Exception {
        RawFrames.writeHeader(fromOne, Frame.MAGIC, Op.BROADCAST, 1, 1, 1L << 40);
        CollectiveException e = failsOnRankZero(() -> zero.broadcast(new float[4], 1));
        assertTrue(e.getMessage().contains("claims 1099511627776 bytes, outside the limit"), e.getMessage());
    }

    @Test
    void lengthDifferentFromTheAnnouncedCountIsRejected() throws Exception {
        RawFrames.write(fromOne, Op.ALL_TO_ALL_COUNTS, 1, 1, RawFrames.ints(5), false);
        RawFrames.write(fromOne, Op.ALL_TO_ALL, 1, 1, RawFrames.floats(1, 2, 3, 4, 5, 6, 7), false);
        CollectiveException e = failsOnRankZero(() -> zero.allToAll(new float[0], new int[] {0, 0}));
        assertTrue(e.getMessage().contains("rank 1 announced 5 floats for rank 0 but sent a frame of 28 bytes"),
                e.getMessage());
    }

    @Test
    void negativeAnnouncedCountIsRejected() throws Exception {
        RawFrames.write(fromOne, Op.ALL_TO_ALL_COUNTS, 1, 1, RawFrames.ints(-3), false);
        CollectiveException e = failsOnRankZero(() -> zero.allToAll(new float[0], new int[] {0, 0}));
        assertTrue(e.getMessage().contains("rank 1 announced -3 floats for rank 0"), e.getMessage());
    }

    @Test
    void badMagicAndWrongOperationAreRejected() throws Exception {
        RawFrames.writeHeader(fromOne, 0x12345678, Op.BARRIER, 1, 1, 0);
        CollectiveException e = failsOnRankZero(zero::barrier);
        assertTrue(e.getMessage().contains("bad magic 0x12345678"), e.getMessage());
    }

    @Test
    void collectivesCalledInDifferentOrdersAreNamed() throws Exception {
        RawFrames.write(fromOne, Op.BROADCAST, 1, 1, new byte[0], false);
        CollectiveException e = failsOnRankZero(zero::barrier);
        assertTrue(e.getMessage().contains("rank 1 sent broadcast #1 but rank 0 is in barrier #1"), e.getMessage());
    }
}
