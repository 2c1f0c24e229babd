package org.moe4j.distributed;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.SplittableRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The handshake written out byte by byte from the wire format in {@link Handshake}'s Javadoc, so a
 * test can play one side with a single field wrong and see the other side refuse it.
 */
final class RawHandshake {
    private static final SplittableRandom RANDOM = new SplittableRandom(20_240_615);

    private RawHandshake() {
    }

    /** The fields of a HELLO; {@link #of} gives rank 1's in a world of W with the test job and secret. */
    record Hello(int version, int worldSize, int rank, long maxFrameBytes, String jobId, byte[] secret) {
        static Hello of(int worldSize) {
            return new Hello(Handshake.VERSION, worldSize, 1, RendezvousConfig.DEFAULT_MAX_FRAME_BYTES,
                    LoopbackCluster.JOB, LoopbackCluster.SECRET);
        }

        Hello withVersion(int v) {
            return new Hello(v, worldSize, rank, maxFrameBytes, jobId, secret);
        }

        Hello withRank(int r) {
            return new Hello(version, worldSize, r, maxFrameBytes, jobId, secret);
        }

        @Override
        public String toString() {
            return "HELLO version " + version + ", world size " + worldSize + ", rank " + rank + ", frame limit "
                    + maxFrameBytes + ", job '" + jobId + "'";
        }
    }

    /** What the acceptor answered: code 0 and its rank (a WELCOME), or a refusal code and reason. */
    record Reply(int code, int rank, String reason) {
    }

    // ---- playing the connector ----------------------------------------------------------------

    /** Reads the acceptor's CHALLENGE, sends hello (signed with hello.secret) and reads the answer. */
    static Reply sayHello(SocketChannel ch, Hello hello) throws IOException {
        ByteBuffer challenge = read(ch, 8 + 32);
        if (challenge.getInt() != Handshake.MAGIC) {
            throw new IOException("the acceptor sent no moe4j challenge");
        }
        challenge.getInt();
        byte[] acceptorNonce = bytes(challenge, 32);
        byte[] job = hello.jobId().getBytes(StandardCharsets.UTF_8);
        byte[] host = "127.0.0.1".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(32 + job.length + host.length + 32 + 32);
        b.putInt(Handshake.MAGIC).putInt(hello.version()).putInt(hello.worldSize()).putInt(hello.rank())
                .putLong(hello.maxFrameBytes()).putInt(1).putShort((short) job.length).put(job)
                .putShort((short) host.length).put(host).put(nonce());
        byte[] signed = java.util.Arrays.copyOf(b.array(), b.position());
        b.put(hmac(hello.secret(), "moe4j-hello", acceptorNonce, signed)).flip();
        write(ch, b);
        int code = read(ch, 4).getInt();
        if (code == 0) {
            return new Reply(0, read(ch, 4 + 32).getInt(), null);
        }
        int length = read(ch, 2).getShort() & 0xFFFF;
        return new Reply(code, -1, new String(read(ch, length).array(), StandardCharsets.UTF_8));
    }

    // ---- playing the acceptor -----------------------------------------------------------------

    /**
     * Sends a CHALLENGE with the given magic and version; when both are right, reads the HELLO and
     * answers with a WELCOME as rank, signed with secret. Returns once the connector has closed.
     */
    static void welcome(SocketChannel ch, int magic, int version, int rank, byte[] secret) throws IOException {
        byte[] acceptorNonce = nonce();
        write(ch, ByteBuffer.allocate(8 + 32).putInt(magic).putInt(version).put(acceptorNonce).flip());
        if (magic == Handshake.MAGIC && version == Handshake.VERSION) {
            read(ch, 28);
            read(ch, read(ch, 2).getShort() & 0xFFFF);
            read(ch, read(ch, 2).getShort() & 0xFFFF);
            byte[] connectorNonce = bytes(read(ch, 32 + 32), 32);
            byte[] rankBytes = ByteBuffer.allocate(4).putInt(rank).array();
            write(ch, ByteBuffer.allocate(8 + 32).putInt(0).putInt(rank)
                    .put(hmac(secret, "moe4j-welcome", connectorNonce, acceptorNonce, rankBytes)).flip());
        }
        while (ch.read(ByteBuffer.allocate(256)) >= 0) {
            // until the connector hangs up
        }
    }

    // ---- bytes --------------------------------------------------------------------------------

    static byte[] hmac(byte[] secret, String label, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(label.getBytes(StandardCharsets.US_ASCII));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static synchronized byte[] nonce() {
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    private static byte[] bytes(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static ByteBuffer read(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("the other side closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
