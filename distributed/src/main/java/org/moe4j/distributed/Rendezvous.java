package org.moe4j.distributed;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Meets the other ranks and builds the full mesh of authenticated connections.
 *
 * <ol>
 * <li>Rank 0 listens on the rendezvous port (the store). Every other rank connects to it,
 *     binds a listener of its own on the local address of that connection, and registers that
 *     address in its HELLO. The connection to rank 0 stays: it is the data link between the two.</li>
 * <li>Each time a rank registers, rank 0 tells every rank registered so far which ranks it still
 *     waits for; when all W - 1 have registered, it sends everyone the table of addresses.</li>
 * <li>Rank i connects to every rank j with 0 &lt; j &lt; i and accepts every rank j &gt; i.</li>
 * </ol>
 *
 * A connection that fails the handshake (stranger, wrong secret, job, version, or a rank already
 * joined) is refused and logged, and the rank keeps waiting for the right peer until the deadline,
 * when it fails naming the ranks that are missing: every rank that times out names them, rank 0
 * from its store and the others from rank 0's last report.
 *
 * <p>What rank 0 sends a registered rank on their link (big-endian):
 * <pre>
 * WAITING  int 2, int n, n ints: the ranks not registered yet            (any number of times)
 * FAILED   int 1, int n, n ints: the ranks missing, int length, message  (then rank 0 gives up)
 * TABLE    int 0, int W, W times: int port, short n + host (UTF-8)       (everyone registered)
 * </pre>
 */
final class Rendezvous {
    private static final System.Logger LOG = System.getLogger("org.moe4j.distributed");
    private static final long HANDSHAKE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int STATUS_OK = 0;
    private static final int STATUS_FAILED = 1;
    private static final int STATUS_WAITING = 2;

    private final RendezvousConfig config;
    private final int rank;
    private final int worldSize;
    private final Duration timeout;
    private final long deadline;
    private final ScheduledExecutorService timer;
    private final Set<Closeable> open = ConcurrentHashMap.newKeySet();
    private final List<String> refusals = new ArrayList<>();
    private boolean done;
    private boolean expired;

    private Rendezvous(RendezvousConfig config, Duration timeout, ScheduledExecutorService timer) {
        this.config = config;
        this.rank = config.rank();
        this.worldSize = config.worldSize();
        this.timeout = timeout;
        this.deadline = System.nanoTime() + timeout.toNanos();
        this.timer = timer;
    }

    /**
     * Runs the rendezvous; returns the channel to every peer by rank (null at this rank).
     *
     * @param storeListener for rank 0, a listener already bound by the caller, or null to bind one
     */
    static SocketChannel[] run(RendezvousConfig config, Duration timeout, ServerSocketChannel storeListener,
            ScheduledExecutorService timer) {
        Rendezvous r = new Rendezvous(config, timeout, timer);
        ScheduledFuture<?> deadlineTask = timer.schedule(r::expire, timeout.toNanos() + r.reportGraceNanos(),
                TimeUnit.NANOSECONDS);
        SocketChannel[] result = null;
        try {
            result = r.rank == 0 ? r.host(storeListener) : r.join();
            return result;
        } catch (IOException e) {
            throw new RendezvousException("rank " + r.rank + ": rendezvous failed: " + e, List.of(), e);
        } finally {
            deadlineTask.cancel(false);
            r.closeAllBut(result);
        }
    }

    /**
     * Ranks other than 0 wait this much past the timeout while they are connected to rank 0, so
     * that rank 0's report naming the missing ranks reaches them before they give up.
     */
    private long reportGraceNanos() {
        return rank == 0 ? 0 : Math.min(TimeUnit.SECONDS.toNanos(2), timeout.toNanos() / 4);
    }

    // ---- rank 0: the store --------------------------------------------------------------------

    private SocketChannel[] host(ServerSocketChannel listener) throws IOException {
        ServerSocketChannel server = listener != null ? listener : openStore();
        open.add(server);
        Acceptor acceptor = new Acceptor(server, 1);
        acceptor.run();
        List<Integer> missing = acceptor.seal();
        if (!missing.isEmpty() || !finish()) {
            String message = "rank 0: rendezvous timed out after " + seconds(timeout) + ": rank(s) " + missing
                    + " never joined the store at " + server.socket().getLocalSocketAddress() + refusalSummary();
            sendToEach(acceptor.channels, failureMessage(missing, message));
            throw new RendezvousException(message, missing, null);
        }
        ByteBuffer table = ByteBuffer.allocate(8 + worldSize * (6 + 255));
        table.putInt(STATUS_OK).putInt(worldSize);
        for (int p = 0; p < worldSize; p++) {
            Handshake.Hello hello = acceptor.hellos[p];
            byte[] host = hello == null ? new byte[0] : hello.host().getBytes(StandardCharsets.UTF_8);
            table.putInt(hello == null ? 0 : hello.port()).putShort((short) host.length).put(host);
        }
        table.flip();
        for (int p = 1; p < worldSize; p++) {
            try {
                writeFully(acceptor.channels[p], table.duplicate());
            } catch (IOException e) {
                throw new RendezvousException("rank 0: rank " + p + " disconnected during the rendezvous: " + e,
                        List.of(p), e);
            }
        }
        LOG.log(System.Logger.Level.DEBUG, "rank 0: all {0} ranks joined", worldSize);
        return acceptor.channels;
    }

    private ServerSocketChannel openStore() throws IOException {
        InetAddress master = InetAddress.getByName(config.masterAddr());
        InetSocketAddress bind = master.isLoopbackAddress() ? new InetSocketAddress(master, config.masterPort())
                : new InetSocketAddress(config.masterPort());
        ServerSocketChannel server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        try {
            server.bind(bind, Math.max(16, worldSize));
        } catch (IOException e) {
            server.close();
            throw new RendezvousException("rank 0 cannot listen on " + bind + " for the rendezvous: " + e
                    + " (is the port taken? under torchrun moe4j uses MASTER_PORT + 1, or MOE_RENDEZVOUS_PORT)",
                    List.of(), e);
        }
        return server;
    }

    // ---- other ranks --------------------------------------------------------------------------

    private SocketChannel[] join() throws IOException {
        InetSocketAddress master = new InetSocketAddress(config.masterAddr(), config.masterPort());
        if (master.isUnresolved()) {
            throw new RendezvousException("rank " + rank + ": the master address '" + config.masterAddr()
                    + "' does not resolve", List.of(), null);
        }
        SocketChannel toZero = connect(master, 0, " (the rendezvous store)");
        InetAddress local = ((InetSocketAddress) toZero.getLocalAddress()).getAddress();
        ServerSocketChannel listener = ServerSocketChannel.open();
        open.add(listener);
        listener.bind(new InetSocketAddress(local, 0), Math.max(16, worldSize));
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        handshake(toZero, local.getHostAddress(), port, 0, master);
        InetSocketAddress[] table = readTable(toZero);

        SocketChannel[] channels = new SocketChannel[worldSize];
        channels[0] = toZero;
        Acceptor acceptor = null;
        if (rank < worldSize - 1) {
            acceptor = new Acceptor(listener, rank + 1);
            Thread.ofVirtual().name("moe4j-rank" + rank + "-accept").start(acceptor::run);
        } else {
            listener.close();
        }
        for (int p = 1; p < rank; p++) {
            SocketChannel ch = connect(table[p], p, "");
            handshake(ch, local.getHostAddress(), port, p, table[p]);
            channels[p] = ch;
        }
        if (acceptor != null) {
            try {
                acceptor.completed.await(Math.max(0, deadline + reportGraceNanos() - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!acceptor.complete()) {
                List<Integer> missing = acceptor.missing();
                throw new RendezvousException("rank " + rank + ": rendezvous timed out after " + seconds(timeout)
                        + ": no connection from rank(s) " + missing + refusalSummary(), missing, null);
            }
            for (int p = rank + 1; p < worldSize; p++) {
                channels[p] = acceptor.channels[p];
            }
        }
        if (!finish()) {
            throw new RendezvousException("rank " + rank + ": rendezvous timed out after " + seconds(timeout),
                    List.of(), null);
        }
        listener.close();
        return channels;
    }

    private void handshake(SocketChannel ch, String host, int port, int peer, InetSocketAddress address)
            throws IOException {
        try {
            Handshake.connect(ch, config, host, port, peer);
        } catch (HandshakeRefusedException e) {
            throw new RendezvousException(e.byPeer()
                    ? "rank " + rank + ": rank " + peer + " at " + address + " refused this process: " + e.getMessage()
                    : "rank " + rank + ": refused the server at " + address + ", where rank " + peer + " should be: "
                            + e.getMessage(), List.of(), e);
        } catch (IOException e) {
            if (isExpired()) {
                throw timedOut("during the handshake with rank " + peer, List.of(peer), e);
            }
            throw e;
        }
    }

    /** Reads rank 0's reports until the table comes, or rank 0's failure, or the deadline. */
    private InetSocketAddress[] readTable(SocketChannel ch) throws IOException {
        List<Integer> waitingFor = null;
        try {
            int status;
            while ((status = readFully(ch, 4).getInt()) == STATUS_WAITING) {
                waitingFor = readRanks(ch);
                LOG.log(System.Logger.Level.DEBUG, "rank {0}: rank 0 waits for rank(s) {1}", rank, waitingFor);
            }
            if (status == STATUS_FAILED) {
                List<Integer> missing = readRanks(ch);
                int length = readFully(ch, 4).getInt();
                if (length < 0 || length > 4096) {
                    throw new IOException("malformed failure message from rank 0");
                }
                String text = StandardCharsets.UTF_8.decode(readFully(ch, length)).toString();
                throw new RendezvousException("rank " + rank + ": " + text, missing, null);
            }
            if (status != STATUS_OK || readFully(ch, 4).getInt() != worldSize) {
                throw new IOException("malformed peer table from rank 0");
            }
            InetSocketAddress[] table = new InetSocketAddress[worldSize];
            for (int p = 0; p < worldSize; p++) {
                ByteBuffer entry = readFully(ch, 6);
                int port = entry.getInt();
                int length = entry.getShort() & 0xFFFF;
                if (length > 255) {
                    throw new IOException("malformed peer table from rank 0");
                }
                String host = StandardCharsets.UTF_8.decode(readFully(ch, length)).toString();
                table[p] = p == 0 ? null : new InetSocketAddress(InetAddress.getByName(host), port);
            }
            return table;
        } catch (IOException e) {
            if (isExpired()) {
                throw waitingFor == null
                        ? timedOut("waiting for the peer table from rank 0 (some rank has not joined)", List.of(), e)
                        : timedOut("rank(s) " + waitingFor + " never joined, as last reported by rank 0", waitingFor,
                                e);
            }
            throw e;
        }
    }

    /** Reads int n, then n ranks, each checked to be in [1, W). */
    private List<Integer> readRanks(SocketChannel ch) throws IOException {
        int n = readFully(ch, 4).getInt();
        if (n < 0 || n >= worldSize) {
            throw new IOException("malformed report from rank 0: " + n + " missing ranks in a world of " + worldSize);
        }
        ByteBuffer b = readFully(ch, 4 * n);
        List<Integer> ranks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int p = b.getInt();
            if (p < 1 || p >= worldSize) {
                throw new IOException("malformed report from rank 0: rank " + p + " in a world of " + worldSize);
            }
            ranks.add(p);
        }
        return ranks;
    }

    /** Connects to peer at address, retrying until the deadline; who adds to the peer's name in errors. */
    private SocketChannel connect(InetSocketAddress address, int peer, String who) throws IOException {
        long backoffMillis = 20;
        IOException last = null;
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0 || isExpired()) {
                throw timedOut("could not reach rank " + peer + who + " at " + address, List.of(peer), last);
            }
            SocketChannel ch = SocketChannel.open();
            open.add(ch);
            try {
                ch.socket().connect(address, (int) Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(remaining), 5000)));
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                return ch;
            } catch (IOException e) {
                last = e;
                open.remove(ch);
                ch.close();
                try {
                    Thread.sleep(Math.min(backoffMillis, Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining))));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new RendezvousException("rank " + rank + ": interrupted while joining", List.of(), ie);
                }
                backoffMillis = Math.min(backoffMillis * 2, 500);
            }
        }
    }

    // ---- accepting peers ----------------------------------------------------------------------

    /** Accepts the ranks in [lowest, W) on a listener, each handshake in a virtual thread of its own. */
    private final class Acceptor {
        final ServerSocketChannel server;
        final int lowest;
        final SocketChannel[] channels = new SocketChannel[worldSize];
        final Handshake.Hello[] hellos = new Handshake.Hello[worldSize];
        final boolean[] claimed = new boolean[worldSize];
        final CountDownLatch completed = new CountDownLatch(1);
        int joined;
        boolean sealed;

        Acceptor(ServerSocketChannel server, int lowest) {
            this.server = server;
            this.lowest = lowest;
        }

        /** Accepts until every expected rank has joined or the listener is closed. */
        void run() {
            while (true) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (IOException e) {
                    return;
                }
                open.add(ch);
                Thread.ofVirtual().name("moe4j-rank" + rank + "-handshake").start(() -> handshake(ch));
            }
        }

        private void handshake(SocketChannel ch) {
            String from = "an unknown address";
            try {
                from = String.valueOf(ch.getRemoteAddress());
            } catch (IOException ignored) {
                // keep the placeholder
            }
            long limit = Math.min(HANDSHAKE_TIMEOUT_NANOS, Math.max(1, deadline - System.nanoTime()));
            ScheduledFuture<?> guard = timer.schedule(() -> close(ch), limit, TimeUnit.NANOSECONDS);
            int claimedRank = -1;
            try {
                Handshake handshake = Handshake.acceptor(ch, config);
                Handshake.Hello hello = handshake.receiveHello();
                int code = claim(hello.rank());
                if (code != 0) {
                    handshake.refuse(code, code == Handshake.REFUSED_DUPLICATE_RANK
                            ? "rank " + hello.rank() + " has already joined (two processes with the same rank?)"
                            : "rank " + hello.rank() + " does not connect to rank " + rank + " (ranks " + lowest
                                    + ".." + (worldSize - 1) + " do)");
                }
                claimedRank = hello.rank();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                handshake.welcome();
                if (!guard.cancel(false)) {
                    throw new IOException("handshake timed out");
                }
                if (!register(hello, ch)) {
                    throw new IOException("rank " + hello.rank() + " came after the rendezvous ended");
                }
                LOG.log(System.Logger.Level.DEBUG, "rank {0}: rank {1} joined from {2}", rank, hello.rank(), from);
            } catch (HandshakeRefusedException | IOException e) {
                guard.cancel(false);
                release(claimedRank);
                close(ch);
                open.remove(ch);
                String reason = e instanceof HandshakeRefusedException ? e.getMessage() : "handshake failed: " + e;
                synchronized (refusals) {
                    if (refusals.size() < 20) {
                        refusals.add(from + ": " + reason);
                    }
                }
                LOG.log(System.Logger.Level.WARNING, "rank {0} refused a connection from {1}: {2}", rank, from, reason);
            }
        }

        synchronized int claim(int p) {
            if (p < lowest || p >= worldSize) {
                return Handshake.REFUSED_RANK;
            }
            if (claimed[p]) {
                return Handshake.REFUSED_DUPLICATE_RANK;
            }
            claimed[p] = true;
            return 0;
        }

        synchronized void release(int p) {
            if (p >= 0 && channels[p] == null) {
                claimed[p] = false;
            }
        }

        /**
         * Adds the peer unless {@link #seal} came first; at rank 0, unless that completes the group,
         * tells every rank registered so far which ranks it still waits for.
         */
        synchronized boolean register(Handshake.Hello hello, SocketChannel ch) {
            if (sealed) {
                return false;
            }
            channels[hello.rank()] = ch;
            hellos[hello.rank()] = hello;
            if (++joined == worldSize - lowest) {
                completed.countDown();
                close(server);
            } else if (rank == 0) {
                List<Integer> missing = missing();
                ByteBuffer report = ByteBuffer.allocate(8 + 4 * missing.size()).putInt(STATUS_WAITING);
                sendToEach(channels, putRanks(report, missing).flip());
            }
            return true;
        }

        /** Takes no more ranks (so nothing else writes on the links); returns those missing. */
        synchronized List<Integer> seal() {
            sealed = true;
            return missing();
        }

        boolean complete() {
            return completed.getCount() == 0;
        }

        synchronized List<Integer> missing() {
            List<Integer> missing = new ArrayList<>();
            for (int p = lowest; p < worldSize; p++) {
                if (channels[p] == null) {
                    missing.add(p);
                }
            }
            return missing;
        }
    }

    // ---- deadline -----------------------------------------------------------------------------

    private synchronized void expire() {
        if (!done) {
            expired = true;
            // rank 0 only waits in accept(): it keeps the joined ranks' connections to tell them who is missing
            for (Closeable c : open) {
                if (rank != 0 || c instanceof ServerSocketChannel) {
                    close(c);
                }
            }
        }
    }

    private synchronized boolean isExpired() {
        return expired;
    }

    /** Marks success unless the deadline passed first. */
    private synchronized boolean finish() {
        if (!expired) {
            done = true;
        }
        return done;
    }

    /** Closes every listener and connection opened here except the links returned. */
    private synchronized void closeAllBut(SocketChannel[] links) {
        Set<Closeable> keep = links == null ? Set.of() : java.util.Arrays.stream(links)
                .filter(java.util.Objects::nonNull).collect(java.util.stream.Collectors.toSet());
        for (Closeable c : open) {
            if (!keep.contains(c)) {
                close(c);
            }
        }
    }

    private RendezvousException timedOut(String what, List<Integer> missing, Exception cause) {
        return new RendezvousException("rank " + rank + ": rendezvous timed out after " + seconds(timeout) + ": "
                + what + (cause != null ? " (" + cause + ")" : "") + refusalSummary(), missing, cause);
    }

    private String refusalSummary() {
        synchronized (refusals) {
            return refusals.isEmpty() ? "" : "; refused " + refusals.size() + " connection(s), first: "
                    + refusals.getFirst();
        }
    }

    private static ByteBuffer failureMessage(List<Integer> missing, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, 4096);
        ByteBuffer b = ByteBuffer.allocate(12 + 4 * missing.size() + length).putInt(STATUS_FAILED);
        return putRanks(b, missing).putInt(length).put(text, 0, length).flip();
    }

    /** Writes message on every channel that is not null; a rank that cannot take it fails on its own deadline. */
    private static void sendToEach(SocketChannel[] channels, ByteBuffer message) {
        for (SocketChannel ch : channels) {
            if (ch != null) {
                try {
                    writeFully(ch, message.duplicate());
                } catch (IOException ignored) {
                    // that rank learns the outcome from its own deadline
                }
            }
        }
    }

    private static ByteBuffer putRanks(ByteBuffer b, List<Integer> ranks) {
        b.putInt(ranks.size());
        ranks.forEach(b::putInt);
        return b;
    }

    static String seconds(Duration d) {
        return String.format("%.1f s", d.toNanos() / 1e9);
    }

    private static ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("connection closed by rank 0");
            }
        }
        return b.flip();
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void close(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
