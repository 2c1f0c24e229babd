package org.moe4j.distributed;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.zip.CRC32C;

/**
 * One connection to one peer. Frames are written by a sender thread of its own, so that a rank
 * can send to several peers and receive at the same time without deadlock; frames are read by the
 * thread that runs the collective. Both directions stream through fixed direct buffers, so a frame
 * never causes an allocation of the size its header claims.
 */
final class PeerLink {
    static final int CHUNK_BYTES = 256 * 1024;

    private final int self;
    private final int peer;
    private final SocketChannel channel;
    private final long maxFrameBytes;

    private final ByteBuffer inHeader = ByteBuffer.allocateDirect(Frame.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer in = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C inCrc = new CRC32C();
    private float[] scratch;

    private final ByteBuffer out = ByteBuffer.allocateDirect(Frame.HEADER_BYTES + CHUNK_BYTES + Frame.TRAILER_BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C outCrc = new CRC32C();
    private final LinkedBlockingDeque<Outgoing> queue = new LinkedBlockingDeque<>();
    private final Thread sender;
    private volatile boolean outputClosed;

    private record Outgoing(Op op, long sequence, Object array, int offset, int count, CompletableFuture<Void> done) {
    }

    private static final Outgoing STOP = new Outgoing(Op.ABORT, -1, null, 0, 0, null);

    PeerLink(int self, int peer, SocketChannel channel, long maxFrameBytes) {
        this.self = self;
        this.peer = peer;
        this.channel = channel;
        this.maxFrameBytes = maxFrameBytes;
        this.sender = Thread.ofPlatform().daemon().name("moe4j-rank" + self + "-send-to-" + peer).start(this::sendLoop);
    }

    int peer() {
        return peer;
    }

    SocketChannel channel() {
        return channel;
    }

    /**
     * Queues a frame with array[offset, offset + count) (float[], int[], short[], long[] or byte[]).
     * The array must not change until the returned future completes.
     */
    CompletableFuture<Void> send(Op op, long sequence, Object array, int offset, int count) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new Outgoing(op, sequence, array, offset, count, done));
        return done;
    }

    /** Sends an ABORT ahead of queued frames, then closes the output side; later frames fail. */
    CompletableFuture<Void> sendAbort(int lostRank, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, Frame.MAX_ABORT_BYTES - 4);
        byte[] payload = new byte[4 + length];
        ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).putInt(lostRank).put(text, 0, length);
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.addFirst(new Outgoing(Op.ABORT, 0, payload, 0, payload.length, done));
        return done;
    }

    /** Reads and checks the next frame header (magic and length limit). */
    Frame.Header readHeader() throws IOException, FrameException {
        inHeader.clear();
        readFully(inHeader);
        inHeader.flip();
        int magic = inHeader.getInt();
        if (magic != Frame.MAGIC) {
            throw new FrameException(String.format("malformed frame from rank %d to rank %d: bad magic 0x%08x",
                    peer, self, magic));
        }
        Frame.Header header = new Frame.Header(inHeader.getInt(), inHeader.getLong(), inHeader.getInt(),
                inHeader.getLong());
        if (header.length() < 0 || header.length() > maxFrameBytes) {
            throw new FrameException(String.format("frame %s from rank %d to rank %d claims %d bytes, outside the"
                    + " limit of %d bytes (MOE_MAX_FRAME_BYTES)", header.describe(), peer, self, header.length(),
                    maxFrameBytes));
        }
        if (header.source() != peer) {
            throw new FrameException(String.format("frame %s on the link from rank %d to rank %d says it comes"
                    + " from rank %d", header.describe(), peer, self, header.source()));
        }
        return header;
    }

    /** Reads the payload of an ABORT frame. */
    Frame.Abort readAbort(Frame.Header header) throws IOException, FrameException {
        if (header.length() < 4 || header.length() > Frame.MAX_ABORT_BYTES) {
            throw new FrameException("abort frame from rank " + peer + " to rank " + self + " has " + header.length()
                    + " bytes");
        }
        byte[] payload = new byte[(int) header.length()];
        readPayload(header, payload, 0, false);
        ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        int lost = b.getInt();
        return new Frame.Abort(lost, new String(payload, 4, payload.length - 4, StandardCharsets.UTF_8));
    }

    /**
     * Reads the payload of header into array from offset (float[], int[], short[], long[] or byte[]); with
     * add, floats are added to the array instead of stored. Checks the CRC32C trailer.
     */
    void readPayload(Frame.Header header, Object array, int offset, boolean add) throws IOException, FrameException {
        int size = elementBytes(array);
        if (header.length() % size != 0) {
            throw new FrameException("frame " + header.describe() + " from rank " + peer + " to rank " + self
                    + " has " + header.length() + " bytes, not a multiple of " + size);
        }
        inCrc.reset();
        inHeader.rewind();
        inCrc.update(inHeader);
        long remaining = header.length();
        int index = offset;
        while (remaining > 0) {
            int want = (int) Math.min(remaining, CHUNK_BYTES);
            in.clear().limit(want);
            readFully(in);
            in.flip();
            inCrc.update(in.duplicate());
            int n = want / size;
            get(in, array, index, n, add);
            index += n;
            remaining -= want;
        }
        in.clear().limit(Frame.TRAILER_BYTES);
        readFully(in);
        int crc = in.flip().getInt();
        if (crc != (int) inCrc.getValue()) {
            throw new FrameException(String.format("checksum mismatch on frame %s from rank %d to rank %d"
                    + " (CRC32C 0x%08x, computed 0x%08x)", header.describe(), peer, self, crc, (int) inCrc.getValue()));
        }
    }

    private void get(ByteBuffer b, Object array, int index, int n, boolean add) {
        switch (array) {
            case float[] f when add -> {
                if (scratch == null) {
                    scratch = new float[CHUNK_BYTES / Float.BYTES];
                }
                b.asFloatBuffer().get(scratch, 0, n);
                for (int i = 0; i < n; i++) {
                    f[index + i] += scratch[i];
                }
            }
            case float[] f -> b.asFloatBuffer().get(f, index, n);
            case int[] a -> b.asIntBuffer().get(a, index, n);
            case short[] a -> b.asShortBuffer().get(a, index, n);
            case long[] a -> b.asLongBuffer().get(a, index, n);
            case byte[] a -> b.get(a, index, n);
            default -> throw new IllegalArgumentException("unsupported payload " + array.getClass());
        }
    }

    private static void put(ByteBuffer b, Object array, int index, int n) {
        switch (array) {
            case float[] f -> b.asFloatBuffer().put(f, index, n);
            case int[] a -> b.asIntBuffer().put(a, index, n);
            case short[] a -> b.asShortBuffer().put(a, index, n);
            case long[] a -> b.asLongBuffer().put(a, index, n);
            case byte[] a -> b.duplicate().put(a, index, n);
            default -> throw new IllegalArgumentException("unsupported payload " + array.getClass());
        }
        b.position(b.position() + n * elementBytes(array));
    }

    static int elementBytes(Object array) {
        return switch (array) {
            case float[] f -> Float.BYTES;
            case int[] a -> Integer.BYTES;
            case short[] a -> Short.BYTES;
            case long[] a -> Long.BYTES;
            case byte[] a -> 1;
            default -> throw new IllegalArgumentException("unsupported payload " + array.getClass());
        };
    }

    private void sendLoop() {
        while (true) {
            Outgoing o;
            try {
                o = queue.take();
            } catch (InterruptedException e) {
                failQueued();
                return;
            }
            if (o == STOP) {
                failQueued();
                return;
            }
            try {
                if (outputClosed) {
                    throw new ClosedChannelException();
                }
                write(o);
                o.done.complete(null);
                if (o.op == Op.ABORT) {
                    outputClosed = true;
                    channel.shutdownOutput();
                }
            } catch (IOException | RuntimeException e) {
                outputClosed = true;
                o.done.completeExceptionally(e);
            }
        }
    }

    private void failQueued() {
        for (Outgoing o; (o = queue.poll()) != null;) {
            if (o.done != null) {
                o.done.completeExceptionally(new ClosedChannelException());
            }
        }
    }

    private void write(Outgoing o) throws IOException {
        int size = elementBytes(o.array);
        out.clear();
        out.putInt(Frame.MAGIC).putInt(o.op.id).putLong(o.sequence).putInt(self).putLong((long) o.count * size);
        outCrc.reset();
        int done = 0;
        while (true) {
            int n = Math.min(o.count - done, (out.remaining() - Frame.TRAILER_BYTES) / size);
            put(out, o.array, o.offset + done, n);
            done += n;
            outCrc.update(out.duplicate().flip());
            if (done == o.count) {
                out.putInt((int) outCrc.getValue());
                out.flip();
                writeFully(out);
                return;
            }
            out.flip();
            writeFully(out);
            out.clear();
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("connection closed by rank " + peer);
            }
        }
    }

    /** Closes the socket; blocked reads and writes on it end with an exception. */
    void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Closes the socket and stops the sender thread (waits up to one second for it). */
    void shutdown() {
        closeChannel();
        queue.addFirst(STOP);
        try {
            sender.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
