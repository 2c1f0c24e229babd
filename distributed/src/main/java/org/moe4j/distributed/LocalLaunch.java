package org.moe4j.distributed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a launcher that starts the ranks itself (like {@code moe launch --nproc N}) gives each
 * child: the torchrun-style variables plus the moe4j job id and secret, which
 * {@link RendezvousConfig#fromEnvironment} reads back.
 */
public final class LocalLaunch {
    private static final SecureRandom RANDOM = new SecureRandom();

    private LocalLaunch() {
    }

    /** A fresh job secret: 32 random bytes as 64 hex digits. */
    public static String newJobSecret() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** A fresh job id: "moe4j-" and 12 random hex digits. */
    public static String newJobId() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return "moe4j-" + HexFormat.of().formatHex(bytes);
    }

    /**
     * A port that was free on host a moment ago (bound with port 0, then released). Another
     * process may take it before rank 0 binds it; rank 0 then fails with a message naming it.
     */
    public static int freePort(String host) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host + ": " + e.getMessage(), e);
        }
    }

    /**
     * The variables for one child of a single-machine launch, in a stable order: {@code RANK},
     * {@code LOCAL_RANK} (= rank), {@code WORLD_SIZE}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR},
     * {@code MASTER_PORT}, {@code MOE_JOB_ID}, {@code MOE_JOB_SECRET}. Add them to the child's
     * environment (never to its command line, which other users can read).
     */
    public static Map<String, String> rankEnvironment(int rank, int worldSize, String masterAddr, int masterPort,
            String jobId, String secret) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank=" + rank + " must be in [0, worldSize=" + worldSize + ")");
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new IllegalArgumentException("masterPort=" + masterPort + " is not in [1, 65535]");
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RANK", Integer.toString(rank));
        env.put("LOCAL_RANK", Integer.toString(rank));
        env.put("WORLD_SIZE", Integer.toString(worldSize));
        env.put("LOCAL_WORLD_SIZE", Integer.toString(worldSize));
        env.put("MASTER_ADDR", masterAddr);
        env.put("MASTER_PORT", Integer.toString(masterPort));
        env.put("MOE_JOB_ID", jobId);
        env.put("MOE_JOB_SECRET", secret);
        return env;
    }
}
