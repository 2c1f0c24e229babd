package org.moe4j.distributed;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * W processes joined by a full mesh of authenticated TCP connections, and the collectives over them.
 *
 * <p>Every rank must call the same collectives in the same order, with consistent sizes; each call
 * gets the next sequence number, which travels in every frame, so a rank that calls another
 * collective fails with a message naming both. Zero counts are normal: empty frames are still sent
 * and received, so a rank with nothing to send takes part like the others.
 *
 * <p>Every collective has a timeout ({@link RendezvousConfig#collectiveTimeout()}). A peer that
 * closes its connection, dies, or sends nothing within the timeout makes the collective throw a
 * {@link PeerLostException} naming the operation, the sequence number and the lost rank; the rank
 * that sees it first tells the others (an ABORT frame), so every rank ends with the same lost rank.
 * After any failure the group is unusable: every later call throws at once.
 *
 * <p>{@link #subgroup} gives some of the ranks a group of their own (expert parallelism's token
 * exchanges, the data-parallel replicas' gradient sums) over the same connections.
 *
 * <p>Not thread-safe: one thread runs the collectives of a group and its subgroups. Threads: one
 * sender per peer and one watchdog, all stopped by {@link #close()}.
 */
public final class ProcessGroup implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.moe4j.distributed");
    /** How long a failing rank waits for its ABORT frames to leave before it closes its links. */
    private static final long ABORT_FLUSH_MILLIS = 200;

    private final RendezvousConfig config;
    /** The group of all ranks that joined; this group itself unless it is a {@link #subgroup}. */
    private final ProcessGroup root;
    /** The root's rank of each of this group's ranks; what messages name. */
    private final int[] members;
    /** This process's rank in the root group. */
    private final int me;
    private final int rank;
    private final int worldSize;
    /** By this group's rank; a subgroup's are the root's links to its members. */
    private final PeerLink[] links;
    private final ScheduledExecutorService watchdog;
    private final long timeoutNanos;
    private final long graceNanos;
    /** Shared by the root and its subgroups: a failure in one makes all of them unusable. */
    private final AtomicReference<CollectiveException> failure;
    private final Object opLock = new Object();

    private long sequence;
    /** Read from the root's by subgroups. */
    private volatile long step = -1;
    private volatile boolean closed;
    // the running collective, guarded by opLock
    private Op runningOp;
    private long runningSequence;
    private ScheduledFuture<?> timer;
    private PeerLostException suspected;
    private volatile int awaiting = -1;

    private ProcessGroup(RendezvousConfig config, SocketChannel[] channels, ScheduledExecutorService watchdog) {
        this.config = config;
        this.root = this;
        this.rank = config.rank();
        this.me = rank;
        this.worldSize = config.worldSize();
        this.members = java.util.stream.IntStream.range(0, worldSize).toArray();
        this.watchdog = watchdog;
        this.timeoutNanos = config.collectiveTimeout().toNanos();
        this.graceNanos = Math.min(TimeUnit.SECONDS.toNanos(2), timeoutNanos / 4);
        this.failure = new AtomicReference<>();
        this.links = new PeerLink[worldSize];
        for (int p = 0; p < worldSize; p++) {
            if (p != rank) {
                links[p] = new PeerLink(rank, p, channels[p], config.maxFrameBytes());
            }
        }
    }

    /** A subgroup of {@code root}: its ranks {@code members}, this process being {@code members[rank]}. */
    private ProcessGroup(ProcessGroup root, int[] members, int rank) {
        this.config = root.config;
        this.root = root;
        this.members = members;
        this.rank = rank;
        this.me = root.rank;
        this.worldSize = members.length;
        this.watchdog = root.watchdog;
        this.timeoutNanos = root.timeoutNanos;
        this.graceNanos = root.graceNanos;
        this.failure = root.failure;
        this.links = new PeerLink[worldSize];
        for (int p = 0; p < worldSize; p++) {
            if (p != rank) {
                links[p] = root.links[members[p]];
            }
        }
    }

    /**
     * Meets the other ranks and connects to every one of them. Rank 0 hosts the rendezvous store on
     * {@code config.masterPort()}; the others connect to it, retrying until it is up.
     *
     * @param config  where to meet and who this process is (Not modified)
     * @param timeout how long to wait for every rank to join
     * @throws RendezvousException when a rank does not join in time (the message names the missing
     *                             ranks) or this process is refused
     */
    public static ProcessGroup join(RendezvousConfig config, Duration timeout) {
        return join(config, timeout, null);
    }

    /** As {@link #join(RendezvousConfig, Duration)}; rank 0 uses storeListener (bound by the caller) if not null. */
    static ProcessGroup join(RendezvousConfig config, Duration timeout, ServerSocketChannel storeListener) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("rendezvous timeout " + timeout + " must be positive");
        }
        if (storeListener != null && config.rank() != 0) {
            throw new IllegalArgumentException("only rank 0 hosts the store; rank " + config.rank() + " got a listener");
        }
        if (config.worldSize() == 1) {
            if (storeListener != null) {
                try {
                    storeListener.close();
                } catch (IOException ignored) {
                    // nobody will connect
                }
            }
            return new ProcessGroup(config, new SocketChannel[1], null);
        }
        int r = config.rank();
        ScheduledThreadPoolExecutor watchdog = new ScheduledThreadPoolExecutor(1,
                task -> Thread.ofPlatform().daemon().name("moe4j-rank" + r + "-watchdog").unstarted(task));
        watchdog.setRemoveOnCancelPolicy(true);
        try {
            SocketChannel[] channels = Rendezvous.run(config, timeout, storeListener, watchdog);
            return new ProcessGroup(config, channels, watchdog);
        } catch (RuntimeException | Error e) {
            watchdog.shutdownNow();
            throw e;
        }
    }

    /** This process's rank in this group, in [0, W). */
    public int rank() {
        return rank;
    }

    /** The number of ranks W of this group. */
    public int worldSize() {
        return worldSize;
    }

    /**
     * The ranks {@code members} of this group as a group of their own, for collectives among them
     * alone. Every member calls it with the same list, and only members do; nothing is sent, and no
     * connection is made: the subgroup uses this group's connections, collective timeout and step,
     * and numbers its collectives on its own. A failure in the subgroup or in this group makes both
     * unusable, and messages name the ranks of the group that joined (the root). Closing this group
     * closes the subgroup; closing the subgroup releases nothing.
     *
     * <p>Collectives of a group and of its subgroups may be interleaved freely, provided every
     * member calls each group's collectives in the same order.
     *
     * @param members ranks of this group, distinct, including this process's, in the order of their
     *                ranks in the subgroup (Not modified)
     * @throws IllegalArgumentException if a member is out of range or repeated, or this rank is not one
     */
    public ProcessGroup subgroup(int[] members) {
        Objects.requireNonNull(members, "members");
        int[] inRoot = new int[members.length];
        int mine = -1;
        java.util.BitSet seen = new java.util.BitSet(worldSize);
        for (int i = 0; i < members.length; i++) {
            int m = members[i];
            if (m < 0 || m >= worldSize || seen.get(m)) {
                throw new IllegalArgumentException("subgroup " + java.util.Arrays.toString(members) + ": rank " + m
                        + (m < 0 || m >= worldSize ? " is not in [0, " + worldSize + ")" : " is repeated"));
            }
            seen.set(m);
            inRoot[i] = this.members[m];
            if (m == rank) {
                mine = i;
            }
        }
        if (mine < 0) {
            throw new IllegalArgumentException("subgroup " + java.util.Arrays.toString(members) + " does not include"
                    + " this process's rank " + rank);
        }
        return new ProcessGroup(root, inRoot, mine);
    }

    /** The rank the root group knows this group's rank {@code p} by. */
    private int world(int p) {
        return members[p];
    }

    private long step() {
        return root.step;
    }

    /** The index of this process on its machine (from the launcher). */
    public int localRank() {
        return config.localRank();
    }

    /** The configuration this group was joined with. */
    public RendezvousConfig config() {
        return config;
    }

    /** Sets the training step named in error messages (negative: none). */
    public void setStep(long step) {
        root.step = step;
    }

    /** Whether a collective has failed; the group is then unusable. */
    public boolean failed() {
        return failure.get() != null;
    }

    // ---- collectives --------------------------------------------------------------------------

    /**
     * Sums data over all ranks, in place, with a ring (reduce-scatter then all-gather): each rank
     * sends and receives about 2·(W−1)/W of the array. The array is cut into W chunks
     * {@code [c·n/W, (c+1)·n/W)}; chunk c is summed in ring order starting at rank c,
     * {@code ((x_c + x_{c+1}) + x_{c+2}) + … + x_{c−1}} (ranks mod W), so the result is the same
     * on every rank and on every run, to the bit.
     *
     * @param data this rank's values (Modified: the sums); the same length on every rank
     */
    public void allReduceSum(float[] data) {
        ringCollective(Op.ALL_REDUCE_SUM, data, true, true, 0);
    }

    /**
     * The first half of an all-reduce: afterwards chunk {@code r} of the array (the chunks of
     * {@link #allReduceSum}, {@link #chunkStart}) holds on rank r the sum over all ranks, summed in
     * ring order from rank r + 1: {@code ((x_{r+1} + x_{r+2}) + …) + x_r}; the other chunks hold
     * partial sums. Each rank sends and receives (W−1)/W of the array. With
     * {@link #allGatherChunks} it is an all-reduce, as a sharded optimizer uses it.
     *
     * @param data this rank's values (Modified); the same length on every rank
     */
    public void reduceScatterSum(float[] data) {
        ringCollective(Op.REDUCE_SCATTER_SUM, data, true, false, -1);
    }

    /**
     * Every rank's chunk to every rank: afterwards chunk q of the array (the chunks of
     * {@link #allReduceSum}) holds, on every rank, what rank q had there. Each rank sends and
     * receives (W−1)/W of the array.
     *
     * @param data chunk {@code rank} this rank's values (Not modified), the others Modified; the same
     *             length on every rank
     */
    public void allGatherChunks(float[] data) {
        ringCollective(Op.ALL_GATHER_CHUNKS, data, false, true, -1);
    }

    /** Where chunk {@code chunk} of an array of n floats starts: {@code chunk·n/W}. */
    public int chunkStart(int n, int chunk) {
        return (int) ((long) n * chunk / worldSize);
    }

    /**
     * The ring collectives. The reduce phase: W − 1 steps, each sending one chunk to the right and
     * adding the one from the left, after which this rank holds the sum of chunk
     * {@code rank + 1 + shift} (mod W). The gather phase: W − 1 steps passing complete chunks on,
     * starting from that one.
     */
    private void ringCollective(Op op, float[] data, boolean reduce, boolean gather, int shift) {
        Objects.requireNonNull(data, "data");
        checkFrame(op.displayName, (data.length + (long) worldSize - 1) / worldSize * Float.BYTES);
        long seq = begin(op);
        boolean ok = false;
        try {
            if (reduce) {
                ring(op, seq, data, shift, true);
            }
            if (gather) {
                ring(op, seq, data, shift + 1, false);
            }
            ok = true;
        } finally {
            end(ok);
        }
    }

    private void ring(Op op, long seq, float[] data, int shift, boolean add) {
        int n = data.length;
        int right = (rank + 1) % worldSize;
        int left = (rank + worldSize - 1) % worldSize;
        for (int s = 0; s < worldSize - 1; s++) {
            int sendChunk = Math.floorMod(rank - s + shift, worldSize);
            int recvChunk = Math.floorMod(rank - s - 1 + shift, worldSize);
            CompletableFuture<Void> sent = send(right, op, seq, data, chunkStart(n, sendChunk),
                    chunkLength(n, sendChunk));
            receive(left, op, seq, data, chunkStart(n, recvChunk), chunkLength(n, recvChunk), add, false);
            awaitSent(right, sent, op, seq);
        }
    }

    /**
     * All-to-all with uneven splits; the counts are exchanged inside. Rank r sends
     * {@code send[offset_p, offset_p + sendCounts[p])} to every rank p (offsets are the prefix sums
     * of sendCounts) and receives one block from every rank, checked against the count its sender
     * announced. Zero counts are sent like any other.
     *
     * @param send       the blocks for ranks 0..W−1, in rank order (Not modified)
     * @param sendCounts sendCounts[p] = floats for rank p, length W, sum = send.length (Not modified)
     * @return the blocks received, in rank order, with their counts
     */
    public AllToAllResult allToAll(float[] send, int[] sendCounts) {
        Objects.requireNonNull(send, "send");
        int[] sendOffsets = offsets("sendCounts", sendCounts, send.length, "send.length");
        long seq = begin(Op.ALL_TO_ALL);
        boolean ok = false;
        try {
            CompletableFuture<?>[] sent = new CompletableFuture<?>[worldSize];
            for (int i = 1; i < worldSize; i++) {
                int p = (rank + i) % worldSize;
                send(p, Op.ALL_TO_ALL_COUNTS, seq, new int[] {sendCounts[p]}, 0, 1);
                sent[p] = send(p, Op.ALL_TO_ALL, seq, send, sendOffsets[p], sendCounts[p]);
            }
            int[] recvCounts = new int[worldSize];
            recvCounts[rank] = sendCounts[rank];
            long total = recvCounts[rank];
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    int[] count = new int[1];
                    receive(p, Op.ALL_TO_ALL_COUNTS, seq, count, 0, 1, false, false);
                    if (count[0] < 0 || (long) count[0] * Float.BYTES > config.maxFrameBytes()) {
                        throw failWith(new CollectiveException(Op.ALL_TO_ALL.displayName, seq, step(), me, world(p),
                                "rank " + world(p) + " announced " + count[0] + " floats for rank " + me
                                        + ", outside [0, " + config.maxFrameBytes() / Float.BYTES + "]", null));
                    }
                    recvCounts[p] = count[0];
                    total += count[0];
                }
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw failWith(new CollectiveException(Op.ALL_TO_ALL.displayName, seq, step(), me, -1,
                        "the announced counts add up to " + total + " floats, more than one array holds", null));
            }
            float[] recv = new float[(int) total];
            int[] recvOffsets = offsets("recvCounts", recvCounts, recv.length, "total");
            System.arraycopy(send, sendOffsets[rank], recv, recvOffsets[rank], sendCounts[rank]);
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    receive(p, Op.ALL_TO_ALL, seq, recv, recvOffsets[p], recvCounts[p], false, true);
                }
            }
            awaitAll(sent, Op.ALL_TO_ALL, seq);
            ok = true;
            return new AllToAllResult(recv, recvCounts);
        } finally {
            end(ok);
        }
    }

    /**
     * All-to-all with uneven splits whose receive counts are already known (for example from an
     * earlier {@link #allToAll(int[])} of per-expert counts). A frame whose length differs from
     * recvCounts[p] is an error naming both ranks.
     *
     * @param send       blocks for ranks 0..W−1 in rank order (Not modified)
     * @param sendCounts floats for each rank, length W, sum = send.length (Not modified)
     * @param recv       receives the blocks from ranks 0..W−1 in rank order (Modified)
     * @param recvCounts floats from each rank, length W, sum = recv.length,
     *                   recvCounts[r] = sendCounts[r] (Not modified)
     */
    public void allToAll(float[] send, int[] sendCounts, float[] recv, int[] recvCounts) {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(recv, "recv");
        allToAllKnown(send, send.length, sendCounts, recv, recv.length, recvCounts, Float.BYTES);
    }

    /**
     * {@link #allToAll(float[], int[], float[], int[])} of 16-bit values (bfloat16 bits, say): half
     * the bytes of floats.
     *
     * @param send       blocks for ranks 0..W−1 in rank order (Not modified)
     * @param sendCounts values for each rank, length W, sum = send.length (Not modified)
     * @param recv       receives the blocks from ranks 0..W−1 in rank order (Modified)
     * @param recvCounts values from each rank, length W, sum = recv.length (Not modified)
     */
    public void allToAll(short[] send, int[] sendCounts, short[] recv, int[] recvCounts) {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(recv, "recv");
        allToAllKnown(send, send.length, sendCounts, recv, recv.length, recvCounts, Short.BYTES);
    }

    private void allToAllKnown(Object send, int sendLength, int[] sendCounts, Object recv, int recvLength,
                               int[] recvCounts, int elementBytes) {
        if (send == recv) {
            throw new IllegalArgumentException("send and recv must be different arrays");
        }
        int[] sendOffsets = offsets("sendCounts", sendCounts, sendLength, "send.length", elementBytes);
        int[] recvOffsets = offsets("recvCounts", recvCounts, recvLength, "recv.length", elementBytes);
        if (sendCounts[rank] != recvCounts[rank]) {
            throw new IllegalArgumentException("sendCounts[" + rank + "]=" + sendCounts[rank] + " != recvCounts["
                    + rank + "]=" + recvCounts[rank] + " (this rank's own block)");
        }
        long seq = begin(Op.ALL_TO_ALL);
        boolean ok = false;
        try {
            CompletableFuture<?>[] sent = new CompletableFuture<?>[worldSize];
            for (int i = 1; i < worldSize; i++) {
                int p = (rank + i) % worldSize;
                sent[p] = send(p, Op.ALL_TO_ALL, seq, send, sendOffsets[p], sendCounts[p]);
            }
            System.arraycopy(send, sendOffsets[rank], recv, recvOffsets[rank], sendCounts[rank]);
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    receive(p, Op.ALL_TO_ALL, seq, recv, recvOffsets[p], recvCounts[p], false, false);
                }
            }
            awaitAll(sent, Op.ALL_TO_ALL, seq);
            ok = true;
        } finally {
            end(ok);
        }
    }

    /**
     * All-to-all of equal int blocks, e.g. per-expert token counts: block p of send
     * ({@code send.length / W} ints) goes to rank p; block p of the result came from rank p.
     *
     * @param send W equal blocks; the same length on every rank (Not modified)
     * @return the received blocks in rank order (a new array of send.length ints)
     */
    public int[] allToAll(int[] send) {
        Objects.requireNonNull(send, "send");
        if (send.length % worldSize != 0) {
            throw new IllegalArgumentException("send.length=" + send.length + " is not a multiple of W=" + worldSize);
        }
        int block = send.length / worldSize;
        checkFrame("allToAll", (long) block * Integer.BYTES);
        long seq = begin(Op.ALL_TO_ALL_INTS);
        boolean ok = false;
        try {
            CompletableFuture<?>[] sent = new CompletableFuture<?>[worldSize];
            for (int i = 1; i < worldSize; i++) {
                int p = (rank + i) % worldSize;
                sent[p] = send(p, Op.ALL_TO_ALL_INTS, seq, send, p * block, block);
            }
            int[] recv = new int[send.length];
            System.arraycopy(send, rank * block, recv, rank * block, block);
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    receive(p, Op.ALL_TO_ALL_INTS, seq, recv, p * block, block, false, false);
                }
            }
            awaitAll(sent, Op.ALL_TO_ALL_INTS, seq);
            ok = true;
            return recv;
        } finally {
            end(ok);
        }
    }

    /**
     * Copies root's data to every rank; root sends to each peer directly.
     *
     * @param data at root the values (Not modified), elsewhere receives them (Modified); the same
     *             length on every rank
     * @param root the rank whose values are sent
     */
    public void broadcast(float[] data, int root) {
        Objects.requireNonNull(data, "data");
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("root=" + root + " is not in [0, " + worldSize + ")");
        }
        checkFrame("broadcast", (long) data.length * Float.BYTES);
        long seq = begin(Op.BROADCAST);
        boolean ok = false;
        try {
            if (rank == root) {
                CompletableFuture<?>[] sent = new CompletableFuture<?>[worldSize];
                for (int i = 1; i < worldSize; i++) {
                    int p = (rank + i) % worldSize;
                    sent[p] = send(p, Op.BROADCAST, seq, data, 0, data.length);
                }
                awaitAll(sent, Op.BROADCAST, seq);
            } else {
                receive(root, Op.BROADCAST, seq, data, 0, data.length, false, false);
            }
            ok = true;
        } finally {
            end(ok);
        }
    }

    /** Returns when every rank has called it: each rank sends an empty frame to every peer. */
    public void barrier() {
        long seq = begin(Op.BARRIER);
        boolean ok = false;
        try {
            float[] empty = new float[0];
            CompletableFuture<?>[] sent = new CompletableFuture<?>[worldSize];
            for (int i = 1; i < worldSize; i++) {
                int p = (rank + i) % worldSize;
                sent[p] = send(p, Op.BARRIER, seq, empty, 0, 0);
            }
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    receive(p, Op.BARRIER, seq, empty, 0, 0, false, false);
                }
            }
            awaitAll(sent, Op.BARRIER, seq);
            ok = true;
        } finally {
            end(ok);
        }
    }

    /**
     * Gathers one long from every rank.
     *
     * @return values[p] = the value rank p passed (length W)
     */
    public long[] allGather(long value) {
        long seq = begin(Op.ALL_GATHER);
        boolean ok = false;
        try {
            long[] values = new long[worldSize];
            values[rank] = value;
            long[] mine = {value};
            CompletableFuture<?>[] sent = new CompletableFuture<?>[worldSize];
            for (int i = 1; i < worldSize; i++) {
                int p = (rank + i) % worldSize;
                sent[p] = send(p, Op.ALL_GATHER, seq, mine, 0, 1);
            }
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    receive(p, Op.ALL_GATHER, seq, values, p, 1, false, false);
                }
            }
            awaitAll(sent, Op.ALL_GATHER, seq);
            ok = true;
            return values;
        } finally {
            end(ok);
        }
    }

    /**
     * Closes every connection and stops the group's threads. Peers still inside a collective with
     * this rank then fail naming it. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (root != this) {
            return;
        }
        for (PeerLink link : links) {
            if (link != null) {
                link.shutdown();
            }
        }
        if (watchdog != null) {
            watchdog.shutdownNow();
            try {
                watchdog.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The raw connection to a peer, for tests that write malformed frames. */
    SocketChannel channelTo(int peer) {
        return links[peer].channel();
    }

    // ---- the running collective ---------------------------------------------------------------

    private long begin(Op op) {
        if (closed || root.closed) {
            throw new IllegalStateException("the process group of rank " + me + " is closed");
        }
        long seq = ++sequence;
        CollectiveException earlier = failure.get();
        if (earlier != null) {
            String detail = "the process group failed earlier and cannot be used: " + earlier.getMessage();
            throw earlier instanceof PeerLostException lost
                    ? new PeerLostException(op.displayName, seq, step(), me, lost.lostRank(), detail, earlier)
                    : new CollectiveException(op.displayName, seq, step(), me, earlier.peerRank(), detail, earlier);
        }
        synchronized (opLock) {
            runningOp = op;
            runningSequence = seq;
            suspected = null;
            awaiting = -1;
            if (watchdog != null) {
                long suspectAfter = timeoutNanos - graceNanos;
                timer = watchdog.schedule(() -> suspect(op, seq), suspectAfter, TimeUnit.NANOSECONDS);
            }
        }
        return seq;
    }

    private void end(boolean ok) {
        PeerLostException suspicion;
        synchronized (opLock) {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            runningOp = null;
            suspicion = suspected;
        }
        if (ok && suspicion != null) {
            // the peers were already told this rank gave up; stay consistent with them
            throw failWith(suspicion);
        }
    }

    /**
     * Watchdog, at timeout − grace: suspects the peer this rank is waiting for, tells the others
     * (so a rank waiting for this one learns who is really missing), and fails at the timeout
     * unless a peer's ABORT names the lost rank first.
     */
    private void suspect(Op op, long seq) {
        synchronized (opLock) {
            if (runningOp != op || runningSequence != seq || failure.get() != null) {
                return;
            }
            int peer = awaiting;
            suspected = new PeerLostException(op.displayName, seq, step(), me, peer, "rank " + peer
                    + " sent nothing within the collective timeout of " + Rendezvous.seconds(config.collectiveTimeout())
                    + " (MOE_COLLECTIVE_TIMEOUT_S)", null);
            for (PeerLink link : root.links) {
                if (link != null && link.peer() != peer) {
                    link.sendAbort(peer, suspected.getMessage());
                }
            }
            timer = watchdog.schedule(() -> timeOut(op, seq), graceNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void timeOut(Op op, long seq) {
        PeerLostException e;
        synchronized (opLock) {
            if (runningOp != op || runningSequence != seq) {
                return;
            }
            e = suspected;
        }
        failWith(e);
    }

    /** Marks the group failed with e unless it already failed; returns the failure that stands. */
    private CollectiveException failWith(CollectiveException e) {
        if (root != this) {
            return root.failWith(e);
        }
        if (failure.compareAndSet(null, e)) {
            LOG.log(System.Logger.Level.DEBUG, e.getMessage());
            int lost = e.peerRank();
            CompletableFuture<?>[] aborts = new CompletableFuture<?>[worldSize];
            for (PeerLink link : links) {
                if (link != null && link.peer() != lost) {
                    aborts[link.peer()] = link.sendAbort(lost, e.getMessage());
                }
            }
            try {
                CompletableFuture.allOf(nonNull(aborts)).get(ABORT_FLUSH_MILLIS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException ignored) {
                // a peer that cannot take the ABORT learns from the closed connection
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            for (PeerLink link : links) {
                if (link != null) {
                    link.closeChannel();
                }
            }
        }
        return failure.get();
    }

    private CompletableFuture<Void> send(int peer, Op op, long seq, Object array, int offset, int count) {
        return links[peer].send(op, seq, array, offset, count);
    }

    /**
     * Receives the next frame from peer into array[offset, offset + count), checking op, sequence
     * and length; an ABORT frame instead ends the collective with the loss it reports.
     */
    private void receive(int peer, Op op, long seq, Object array, int offset, int count, boolean add,
            boolean announced) {
        awaiting = world(peer);
        PeerLink link = links[peer];
        try {
            Frame.Header h = link.readHeader();
            if (h.op() == Op.ABORT.id) {
                Frame.Abort abort = link.readAbort(h);
                String detail = abort.lostRank() == me
                        ? "rank " + world(peer) + " gave up waiting for this rank: " + abort.message()
                        : "rank " + abort.lostRank() + " lost, as reported by rank " + world(peer) + ": "
                                + abort.message();
                throw failWith(new PeerLostException(op.displayName, seq, step(), me,
                        abort.lostRank() >= 0 ? abort.lostRank() : world(peer), detail, null));
            }
            if (h.op() != op.id || h.sequence() != seq) {
                throw new FrameException("rank " + world(peer) + " sent " + h.describe() + " but rank " + me + " is in "
                        + op.frameName() + " #" + seq + " (are all ranks calling the same collectives in the same"
                        + " order?)");
            }
            long expected = (long) count * PeerLink.elementBytes(array);
            if (h.length() != expected) {
                throw new FrameException(announced
                        ? "rank " + world(peer) + " announced " + count + " floats for rank " + me
                                + " but sent a frame of " + h.length() + " bytes (" + h.length() / Float.BYTES
                                + " floats)"
                        : "rank " + world(peer) + " sent a frame of " + h.length() + " bytes to rank " + me
                                + ", which expected " + expected + " bytes (do the sizes agree on all ranks?)");
            }
            link.readPayload(h, array, offset, add);
        } catch (FrameException e) {
            throw failWith(new CollectiveException(op.displayName, seq, step(), me, world(peer), e.getMessage(), null));
        } catch (IOException e) {
            throw lost(peer, op, seq, e);
        }
    }

    private void awaitSent(int peer, CompletableFuture<?> sent, Op op, long seq) {
        awaiting = world(peer);
        try {
            sent.get();
        } catch (ExecutionException e) {
            throw lost(peer, op, seq, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failWith(new CollectiveException(op.displayName, seq, step(), me, -1, "interrupted", e));
        }
    }

    private void awaitAll(CompletableFuture<?>[] sent, Op op, long seq) {
        for (int p = 0; p < worldSize; p++) {
            if (sent[p] != null) {
                awaitSent(p, sent[p], op, seq);
            }
        }
    }

    /** The failure to throw after an I/O error on the link to peer. */
    private CollectiveException lost(int peer, Op op, long seq, Throwable cause) {
        PeerLostException suspicion;
        synchronized (opLock) {
            suspicion = suspected;
        }
        if (suspicion != null) {
            return failWith(suspicion);
        }
        if (cause instanceof java.nio.channels.ClosedByInterruptException) {
            return failWith(new CollectiveException(op.displayName, seq, step(), me, -1, "interrupted while"
                    + " waiting for rank " + world(peer) + "; the links are closed", cause));
        }
        return failWith(new PeerLostException(op.displayName, seq, step(), me, world(peer), "rank " + world(peer)
                + " lost: " + describe(cause), cause));
    }

    private void checkFrame(String what, long bytes) {
        if (bytes > config.maxFrameBytes()) {
            throw new IllegalArgumentException(what + " needs frames of " + bytes + " bytes, above the limit of "
                    + config.maxFrameBytes() + " (MOE_MAX_FRAME_BYTES)");
        }
    }

    /** Prefix sums of counts after checking length W, no negatives, and the sum. */
    private int[] offsets(String name, int[] counts, int total, String totalName) {
        return offsets(name, counts, total, totalName, Float.BYTES);
    }

    private int[] offsets(String name, int[] counts, int total, String totalName, int elementBytes) {
        Objects.requireNonNull(counts, name);
        if (counts.length != worldSize) {
            throw new IllegalArgumentException(name + ".length=" + counts.length + " != W=" + worldSize);
        }
        int[] offsets = new int[worldSize];
        long sum = 0;
        for (int p = 0; p < worldSize; p++) {
            if (counts[p] < 0) {
                throw new IllegalArgumentException(name + "[" + p + "]=" + counts[p] + " is negative");
            }
            checkFrame(name + "[" + p + "]", (long) counts[p] * elementBytes);
            offsets[p] = (int) sum;
            sum += counts[p];
        }
        if (sum != total) {
            throw new IllegalArgumentException("sum(" + name + ")=" + sum + " != " + totalName + "=" + total);
        }
        return offsets;
    }

    private int chunkLength(int n, int chunk) {
        return chunkStart(n, chunk + 1) - chunkStart(n, chunk);
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        String kind = cause.getClass().getSimpleName();
        return message == null ? kind : message + " (" + kind + ")";
    }

    private static CompletableFuture<?>[] nonNull(CompletableFuture<?>[] futures) {
        return java.util.Arrays.stream(futures).filter(Objects::nonNull).toArray(CompletableFuture<?>[]::new);
    }
}
