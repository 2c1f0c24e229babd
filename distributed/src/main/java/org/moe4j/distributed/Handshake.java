package org.moe4j.distributed;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The handshake that opens every connection, before any data moves. Big-endian.
 *
 * <pre>
 * acceptor  -> connector  CHALLENGE  int magic 'M4JH', int version, 32-byte nonce A
 * connector -> acceptor   HELLO      int magic, int version, int world size, int rank,
 *                                    long max frame bytes, int listening port,
 *                                    short n + job id (UTF-8), short n + listening host,
 *                                    32-byte nonce C, 32-byte HMAC-SHA256(secret,
 *                                    "moe4j-hello" | nonce A | every HELLO byte before the MAC)
 * acceptor  -> connector  WELCOME    int 0, int acceptor rank, 32-byte HMAC-SHA256(secret,
 *                                    "moe4j-welcome" | nonce C | nonce A | acceptor rank)
 *                      or REFUSAL    int code > 0, short n + reason (UTF-8)
 * </pre>
 *
 * Both sides prove they hold the secret without sending it; the nonces make every proof
 * single-use. Every length is checked before it is read.
 */
final class Handshake {
    static final int MAGIC = 0x4D344A48;
    static final int VERSION = 2;
    private static final int NONCE_BYTES = 32;
    private static final int MAC_BYTES = 32;
    private static final int MAX_TEXT_BYTES = 255;
    private static final SecureRandom RANDOM = new SecureRandom();

    static final int REFUSED_VERSION = 1;
    static final int REFUSED_JOB = 2;
    static final int REFUSED_WORLD_SIZE = 3;
    static final int REFUSED_FRAME_LIMIT = 4;
    static final int REFUSED_RANK = 5;
    static final int REFUSED_AUTHENTICATION = 6;
    static final int REFUSED_DUPLICATE_RANK = 7;

    /** What a connecting peer said about itself. */
    record Hello(int rank, String host, int port) {
    }

    private final SocketChannel channel;
    private final RendezvousConfig config;
    private final int selfRank;
    private final byte[] secret;
    private final byte[] acceptorNonce = new byte[NONCE_BYTES];
    private byte[] connectorNonce;

    private Handshake(SocketChannel channel, RendezvousConfig config, int selfRank) {
        this.channel = channel;
        this.config = config;
        this.selfRank = selfRank;
        this.secret = config.secret();
    }

    /** The acceptor's side of a new connection. */
    static Handshake acceptor(SocketChannel channel, RendezvousConfig config) {
        return new Handshake(channel, config, config.rank());
    }

    /**
     * Sends the challenge and reads and checks the HELLO: magic, version, job, world size, frame
     * limit, rank range and the MAC. Whether the rank is expected here is the caller's check.
     *
     * @throws HandshakeRefusedException when the peer is refused (a refusal was sent if it spoke the protocol)
     */
    Hello receiveHello() throws IOException, HandshakeRefusedException {
        RANDOM.nextBytes(acceptorNonce);
        ByteBuffer challenge = ByteBuffer.allocate(8 + NONCE_BYTES);
        challenge.putInt(MAGIC).putInt(VERSION).put(acceptorNonce).flip();
        writeFully(challenge);

        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        ByteBuffer head = read(8, seen);
        int magic = head.getInt();
        if (magic != MAGIC) {
            throw new HandshakeRefusedException(String.format("not a moe4j peer (first bytes 0x%08x)", magic));
        }
        int version = head.getInt();
        if (version != VERSION) {
            refuse(REFUSED_VERSION, "protocol version " + version + " is not " + VERSION);
        }
        ByteBuffer fixed = read(4 + 4 + 8 + 4, seen);
        int worldSize = fixed.getInt();
        int rank = fixed.getInt();
        long maxFrameBytes = fixed.getLong();
        int port = fixed.getInt();
        String jobId = readText(seen);
        String host = readText(seen);
        connectorNonce = new byte[NONCE_BYTES];
        read(NONCE_BYTES, seen).get(connectorNonce);
        byte[] mac = new byte[MAC_BYTES];
        read(MAC_BYTES, null).get(mac);

        if (!jobId.equals(config.jobId())) {
            refuse(REFUSED_JOB, "job id '" + jobId + "' is not '" + config.jobId() + "'");
        }
        if (worldSize != config.worldSize()) {
            refuse(REFUSED_WORLD_SIZE, "world size " + worldSize + " is not " + config.worldSize());
        }
        if (maxFrameBytes != config.maxFrameBytes()) {
            refuse(REFUSED_FRAME_LIMIT, "frame limit " + maxFrameBytes + " is not " + config.maxFrameBytes()
                    + " (MOE_MAX_FRAME_BYTES must agree)");
        }
        if (rank < 0 || rank >= worldSize || rank == selfRank) {
            refuse(REFUSED_RANK, "rank " + rank + " is not a peer of rank " + selfRank + " in a world of "
                    + worldSize);
        }
        byte[] expected = hmac("moe4j-hello", acceptorNonce, seen.toByteArray());
        if (!MessageDigest.isEqual(expected, mac)) {
            refuse(REFUSED_AUTHENTICATION, "authentication failed for rank " + rank
                    + " (the job secret differs)");
        }
        return new Hello(rank, host, port);
    }

    /** Sends a refusal and throws. */
    void refuse(int code, String reason) throws IOException, HandshakeRefusedException {
        byte[] text = truncate(reason);
        ByteBuffer b = ByteBuffer.allocate(6 + text.length);
        b.putInt(code).putShort((short) text.length).put(text).flip();
        writeFully(b);
        throw new HandshakeRefusedException(reason);
    }

    /** Accepts the peer whose HELLO was read, proving this side knows the secret too. */
    void welcome() throws IOException {
        byte[] rank = ByteBuffer.allocate(4).putInt(selfRank).array();
        ByteBuffer b = ByteBuffer.allocate(8 + MAC_BYTES);
        b.putInt(0).putInt(selfRank).put(hmac("moe4j-welcome", connectorNonce, concat(acceptorNonce, rank))).flip();
        writeFully(b);
    }

    /**
     * The connector's side: answers the challenge and checks that the acceptor is expectedRank of
     * the same job.
     *
     * @throws HandshakeRefusedException when the acceptor refused ({@code byPeer}), or this side refused it:
     *                                   another protocol, or it is not expectedRank of this job
     */
    static void connect(SocketChannel channel, RendezvousConfig config, String host, int port, int expectedRank)
            throws IOException, HandshakeRefusedException {
        Handshake h = new Handshake(channel, config, config.rank());
        ByteBuffer challenge = h.read(8 + NONCE_BYTES, null);
        int magic = challenge.getInt();
        if (magic != MAGIC) {
            throw new HandshakeRefusedException(String.format("it is not a moe4j rank (first bytes 0x%08x)", magic));
        }
        int version = challenge.getInt();
        if (version != VERSION) {
            throw new HandshakeRefusedException("it speaks protocol version " + version + ", this process "
                    + VERSION);
        }
        challenge.get(h.acceptorNonce);
        h.connectorNonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(h.connectorNonce);
        byte[] job = truncate(config.jobId());
        byte[] hostBytes = truncate(host);
        ByteBuffer hello = ByteBuffer.allocate(28 + 4 + job.length + hostBytes.length + NONCE_BYTES + MAC_BYTES);
        hello.putInt(MAGIC).putInt(VERSION).putInt(config.worldSize()).putInt(config.rank())
                .putLong(config.maxFrameBytes()).putInt(port)
                .putShort((short) job.length).put(job).putShort((short) hostBytes.length).put(hostBytes)
                .put(h.connectorNonce);
        byte[] signed = java.util.Arrays.copyOf(hello.array(), hello.position());
        hello.put(h.hmac("moe4j-hello", h.acceptorNonce, signed)).flip();
        h.writeFully(hello);

        int status = h.read(4, null).getInt();
        if (status != 0) {
            throw new HandshakeRefusedException(h.readText(null), true);
        }
        ByteBuffer welcome = h.read(4 + MAC_BYTES, null);
        int rank = welcome.getInt();
        byte[] mac = new byte[MAC_BYTES];
        welcome.get(mac);
        byte[] expected = h.hmac("moe4j-welcome", h.connectorNonce,
                concat(h.acceptorNonce, ByteBuffer.allocate(4).putInt(rank).array()));
        if (!MessageDigest.isEqual(expected, mac)) {
            throw new HandshakeRefusedException("it did not prove it knows the job secret (answering as rank " + rank
                    + ")");
        }
        if (rank != expectedRank) {
            throw new HandshakeRefusedException("it answered as rank " + rank + " of this job");
        }
    }

    private byte[] hmac(String label, byte[] nonce, byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(label.getBytes(StandardCharsets.US_ASCII));
            mac.update(nonce);
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static byte[] truncate(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= MAX_TEXT_BYTES ? bytes : java.util.Arrays.copyOf(bytes, MAX_TEXT_BYTES);
    }

    private String readText(ByteArrayOutputStream seen) throws IOException, HandshakeRefusedException {
        int length = read(2, seen).getShort() & 0xFFFF;
        if (length > MAX_TEXT_BYTES) {
            throw new HandshakeRefusedException("text field of " + length + " bytes exceeds " + MAX_TEXT_BYTES);
        }
        ByteBuffer b = read(length, seen);
        return new String(b.array(), 0, length, StandardCharsets.UTF_8);
    }

    /** Reads exactly n bytes (n is small and fixed by the protocol), recording them in seen. */
    private ByteBuffer read(int n, ByteArrayOutputStream seen) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("connection closed during the handshake");
            }
        }
        if (seen != null) {
            seen.write(b.array(), 0, n);
        }
        return b.flip();
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
