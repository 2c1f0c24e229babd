package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Strangers, wrong secrets, wrong jobs and duplicate ranks are refused; the right peers still join. */
class HandshakeTest {
    private static final Duration JOIN = Duration.ofSeconds(10);
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<ProcessGroup> groups = new ArrayList<>();
    private ServerSocketChannel server;
    private int port;
    private LogCapture log;

    @BeforeEach
    void setUp() throws Exception {
        log = new LogCapture();
        server = LoopbackCluster.storeListener();
        port = LoopbackCluster.port(server);
    }

    @AfterEach
    void tearDown() throws Exception {
        synchronized (groups) {
            groups.forEach(ProcessGroup::close);
        }
        server.close();
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
        log.close();
    }

    private Future<ProcessGroup> joinAsync(RendezvousConfig config) {
        return pool.submit(() -> {
            ProcessGroup g = ProcessGroup.join(config, JOIN, config.rank() == 0 ? server : null);
            synchronized (groups) {
                groups.add(g);
            }
            return g;
        });
    }

    private RendezvousConfig config(int rank, int worldSize) {
        return LoopbackCluster.config(port, rank, worldSize, Duration.ofSeconds(10));
    }

    private void checkWorks(List<Future<ProcessGroup>> joined) throws Exception {
        List<Future<long[]>> results = new ArrayList<>();
        for (Future<ProcessGroup> f : joined) {
            ProcessGroup g = f.get(15, TimeUnit.SECONDS);
            results.add(pool.submit(() -> g.allGather(g.rank() + 7)));
        }
        for (Future<long[]> r : results) {
            long[] expected = new long[joined.size()];
            for (int p = 0; p < expected.length; p++) {
                expected[p] = p + 7;
            }
            assertArrayEquals(expected, r.get(15, TimeUnit.SECONDS));
        }
    }

    private RendezvousException refused(RendezvousConfig config) {
        Future<ProcessGroup> f = joinAsync(config);
        Exception e = assertThrows(Exception.class, () -> f.get(15, TimeUnit.SECONDS));
        return assertInstanceOf(RendezvousException.class, e.getCause());
    }

    @Test
    void wrongSecretIsRefusedAndTheRightPeerStillJoins() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 2));
        RendezvousConfig impostor = RendezvousConfig.of("127.0.0.1", port, 1, 2, LoopbackCluster.JOB,
                "wrong".getBytes(StandardCharsets.UTF_8));
        RendezvousException e = refused(impostor);
        assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
        assertTrue(log.await("WARNING rank 0 refused a connection", JOIN), log.messages().toString());
        checkWorks(List.of(zero, joinAsync(config(1, 2))));
    }

    @Test
    void wrongJobAndWorldSizeAreRefused() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 2));
        RendezvousConfig otherJob = RendezvousConfig.of("127.0.0.1", port, 1, 2, "other-job", LoopbackCluster.SECRET);
        assertTrue(refused(otherJob).getMessage().contains("job id 'other-job'"));
        RendezvousConfig otherSize = RendezvousConfig.of("127.0.0.1", port, 1, 3, LoopbackCluster.JOB,
                LoopbackCluster.SECRET);
        assertTrue(refused(otherSize).getMessage().contains("world size 3"));
        checkWorks(List.of(zero, joinAsync(config(1, 2))));
    }

    @Test
    void strangersSpeakingGarbageOrNothingAreRefused() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 2));
        SocketChannel silent = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        try (SocketChannel garbage = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            garbage.write(ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            assertTrue(log.await("not a moe4j peer", JOIN), log.messages().toString());
            // a frame-sized claim in the right magic: bounded reads, refused without allocating
            try (SocketChannel liar = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                ByteBuffer hello = ByteBuffer.allocate(34);
                hello.putInt(Handshake.MAGIC).putInt(Handshake.VERSION).putInt(2).putInt(1).putLong(1L << 40)
                        .putInt(1).putShort((short) -1).flip();
                liar.write(hello);
                assertTrue(log.await("text field of 65535 bytes", JOIN), log.messages().toString());
            }
            checkWorks(List.of(zero, joinAsync(config(1, 2))));
        } finally {
            silent.close();
        }
    }

    @Test
    void duplicateRankIsRefused() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 3));
        Future<ProcessGroup> one = joinAsync(config(1, 3));
        assertTrue(log.await("rank 0: rank 1 joined", JOIN), log.messages().toString());
        RendezvousException e = refused(config(1, 3));
        assertTrue(e.getMessage().contains("rank 1 has already joined"), e.getMessage());
        assertTrue(log.await("WARNING rank 0 refused", JOIN));
        checkWorks(List.of(zero, one, joinAsync(config(2, 3))));
    }

    @Test
    void rendezvousTimeoutNamesTheMissingRank() throws Exception {
        Duration shortJoin = Duration.ofMillis(1500);
        Future<ProcessGroup> zero = pool.submit(() -> ProcessGroup.join(config(0, 3), shortJoin, server));
        Future<ProcessGroup> one = pool.submit(() -> ProcessGroup.join(config(1, 3), shortJoin, null));
        for (Future<ProcessGroup> f : List.of(zero, one)) {
            Exception e = assertThrows(Exception.class, () -> f.get(10, TimeUnit.SECONDS));
            RendezvousException r = assertInstanceOf(RendezvousException.class, e.getCause());
            assertTrue(r.getMessage().contains("rank(s) [2] never joined"), r.getMessage());
        }
        Exception e = assertThrows(Exception.class, zero::get);
        assertEquals(List.of(2), ((RendezvousException) e.getCause()).missingRanks());
    }
}
