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

/**
 * Every refusal of the handshake, on both sides. The acceptor refuses strangers, another secret, job,
 * world size, protocol version or frame limit, ranks that are not its peers and duplicate ranks,
 * and the right peers still join; the connector refuses an acceptor that does not prove the secret,
 * answers as another rank, or speaks another protocol.
 */
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
        assertTrue(e.getMessage().contains("rank 0 at /127.0.0.1:" + port + " refused this process: authentication"
                + " failed"), e.getMessage());
        assertTrue(log.await("WARNING rank 0 refused a connection", JOIN), log.messages().toString());
        checkWorks(List.of(zero, joinAsync(config(1, 2))));
    }

    @Test
    void wrongJobWorldSizeAndFrameLimitAreRefused() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 2));
        RendezvousConfig otherJob = RendezvousConfig.of("127.0.0.1", port, 1, 2, "other-job", LoopbackCluster.SECRET);
        assertTrue(refused(otherJob).getMessage().contains("job id 'other-job'"));
        RendezvousConfig otherSize = RendezvousConfig.of("127.0.0.1", port, 1, 3, LoopbackCluster.JOB,
                LoopbackCluster.SECRET);
        assertTrue(refused(otherSize).getMessage().contains("world size 3"));
        String message = refused(config(1, 2).withMaxFrameBytes(1 << 20)).getMessage();
        assertTrue(message.contains("frame limit 1048576 is not " + RendezvousConfig.DEFAULT_MAX_FRAME_BYTES
                + " (MOE_MAX_FRAME_BYTES must agree)"), message);
        checkWorks(List.of(zero, joinAsync(config(1, 2))));
    }

    /** Sends hello to rank 0's store and checks that rank 0 refuses it with code and reason, and logs it. */
    private void storeRefuses(RawHandshake.Hello hello, int code, String reason) throws Exception {
        RawHandshake.Reply reply;
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            reply = RawHandshake.sayHello(ch, hello);
        }
        assertEquals(new RawHandshake.Reply(code, -1, reason), reply, "rank 0's answer to " + hello);
        assertTrue(log.await(reason, JOIN), log.messages().toString());
        assertTrue(log.messages().stream().anyMatch(m -> m.startsWith("WARNING rank 0 refused a connection from ")
                && m.endsWith(": " + reason)), log.messages().toString());
    }

    @Test
    void anotherProtocolVersionIsRefused() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 2));
        int other = Handshake.VERSION + 1;
        storeRefuses(RawHandshake.Hello.of(2).withVersion(other), Handshake.REFUSED_VERSION,
                "protocol version " + other + " is not " + Handshake.VERSION);
        checkWorks(List.of(zero, joinAsync(config(1, 2))));
    }

    @Test
    void ranksThatAreNotPeersOfTheAcceptorAreRefused() throws Exception {
        Future<ProcessGroup> zero = joinAsync(config(0, 2));
        for (int rank : new int[] {0, 2, -1}) {
            storeRefuses(RawHandshake.Hello.of(2).withRank(rank), Handshake.REFUSED_RANK,
                    "rank " + rank + " is not a peer of rank 0 in a world of 2");
        }
        checkWorks(List.of(zero, joinAsync(config(1, 2))));
    }

    /**
     * Rank 1 joins while the store port is held by a server that answers like
     * {@link RawHandshake#welcome}; checks that rank 1 refused that server and returns its reason.
     */
    private String connectorRefuses(int magic, int version, int rank, byte[] secret) throws Exception {
        Future<Void> impostor = pool.submit(() -> {
            try (SocketChannel ch = server.accept()) {
                RawHandshake.welcome(ch, magic, version, rank, secret);
            }
            return null;
        });
        String message = refused(config(1, 2)).getMessage();
        impostor.get(15, TimeUnit.SECONDS);
        String prefix = "rank 1: refused the server at /127.0.0.1:" + port + ", where rank 0 should be: ";
        assertTrue(message.startsWith(prefix), "expected '" + prefix + "...', got '" + message + "'");
        return message.substring(prefix.length());
    }

    @Test
    void acceptorWithTheWrongSecretIsRefusedByTheConnector() throws Exception {
        byte[] wrong = "wrong".getBytes(StandardCharsets.UTF_8);
        assertEquals("it did not prove it knows the job secret (answering as rank 0)",
                connectorRefuses(Handshake.MAGIC, Handshake.VERSION, 0, wrong));
    }

    @Test
    void acceptorAnsweringAsAnotherRankIsRefusedByTheConnector() throws Exception {
        assertEquals("it answered as rank 1 of this job",
                connectorRefuses(Handshake.MAGIC, Handshake.VERSION, 1, LoopbackCluster.SECRET));
    }

    @Test
    void acceptorOfAnotherVersionOrProtocolIsRefusedByTheConnector() throws Exception {
        int other = Handshake.VERSION + 1;
        assertEquals("it speaks protocol version " + other + ", this process " + Handshake.VERSION,
                connectorRefuses(Handshake.MAGIC, other, 0, LoopbackCluster.SECRET));
        assertEquals("it is not a moe4j rank (first bytes 0x48545450)",
                connectorRefuses(0x48545450, Handshake.VERSION, 0, LoopbackCluster.SECRET));
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
}
