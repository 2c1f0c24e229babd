package org.moe4j.distributed;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how this process meets the other ranks of a job.
 *
 * @param masterAddr        host of rank 0, which hosts the rendezvous store
 * @param masterPort        port of the rendezvous store (0 only with a listener bound by the caller)
 * @param rank              this process, in [0, worldSize)
 * @param worldSize         number of processes W, at least 1
 * @param localRank         index of this process on its machine (for choosing a device)
 * @param jobId             names the job; peers with another job id are refused
 * @param secret            shared job secret that every handshake proves (empty only when W = 1)
 * @param collectiveTimeout longest time one collective may take before the group fails
 * @param maxFrameBytes     largest frame payload a peer may send; larger frames are rejected
 * @param convention        which launcher's variables this was read from
 */
public record RendezvousConfig(String masterAddr, int masterPort, int rank, int worldSize, int localRank,
        String jobId, byte[] secret, Duration collectiveTimeout, long maxFrameBytes,
        LaunchConvention convention) {

    /** Rendezvous port when neither {@code MASTER_PORT} nor {@code MOE_RENDEZVOUS_PORT} is set. */
    public static final int DEFAULT_PORT = 29500;
    /** Collective timeout when {@code MOE_COLLECTIVE_TIMEOUT_S} is not set. */
    public static final Duration DEFAULT_COLLECTIVE_TIMEOUT = Duration.ofMinutes(5);
    /** Frame limit when {@code MOE_MAX_FRAME_BYTES} is not set: 1 GiB (256 Mi floats). */
    public static final long DEFAULT_MAX_FRAME_BYTES = 1L << 30;
    /** Smallest frame limit accepted. */
    public static final long MIN_MAX_FRAME_BYTES = 1024;
    /** Job id when no launcher provides one. */
    public static final String DEFAULT_JOB_ID = "moe4j";

    /** Checks every field; throws {@link IllegalArgumentException} naming the field and its value. */
    public RendezvousConfig {
        Objects.requireNonNull(masterAddr, "masterAddr");
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(collectiveTimeout, "collectiveTimeout");
        Objects.requireNonNull(convention, "convention");
        if (worldSize < 1) {
            throw new IllegalArgumentException("worldSize=" + worldSize + " must be at least 1");
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank=" + rank + " must be in [0, " + worldSize + ")");
        }
        if (localRank < 0) {
            throw new IllegalArgumentException("localRank=" + localRank + " must not be negative");
        }
        if (masterPort < 0 || masterPort > 65535) {
            throw new IllegalArgumentException("masterPort=" + masterPort + " is not in [0, 65535]");
        }
        if (masterAddr.isBlank()) {
            throw new IllegalArgumentException("masterAddr is empty");
        }
        if (jobId.isEmpty() || jobId.length() > 200) {
            throw new IllegalArgumentException("jobId '" + jobId + "' must have 1 to 200 characters");
        }
        if (worldSize > 1 && secret.length == 0) {
            throw new IllegalArgumentException("a job secret is required when worldSize=" + worldSize
                    + " > 1 (MOE_JOB_SECRET or MOE_JOB_SECRET_FILE)");
        }
        if (collectiveTimeout.isNegative() || collectiveTimeout.isZero()) {
            throw new IllegalArgumentException("collectiveTimeout=" + collectiveTimeout + " must be positive");
        }
        if (maxFrameBytes < MIN_MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("maxFrameBytes=" + maxFrameBytes + " is below " + MIN_MAX_FRAME_BYTES);
        }
        secret = secret.clone();
    }

    /**
     * A configuration built in code, with the default timeout and frame limit.
     *
     * @param secret the job secret (Not modified; copied)
     */
    public static RendezvousConfig of(String masterAddr, int masterPort, int rank, int worldSize, String jobId,
            byte[] secret) {
        return new RendezvousConfig(masterAddr, masterPort, rank, worldSize, 0, jobId, secret,
                DEFAULT_COLLECTIVE_TIMEOUT, DEFAULT_MAX_FRAME_BYTES, LaunchConvention.EXPLICIT);
    }

    /**
     * Reads the launcher's variables: torchrun style ({@code RANK}, {@code WORLD_SIZE},
     * {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code LOCAL_RANK}) first, then Open MPI
     * ({@code OMPI_COMM_WORLD_*}), then Slurm ({@code SLURM_PROCID}, ...), plus the moe4j variables
     * ({@code MOE_JOB_SECRET}, {@code MOE_JOB_SECRET_FILE}, {@code MOE_JOB_ID},
     * {@code MOE_RENDEZVOUS_PORT}, {@code MOE_COLLECTIVE_TIMEOUT_S}, {@code MOE_MAX_FRAME_BYTES}).
     * See {@code docs/distributed.md}.
     *
     * @param env the environment, usually {@code System.getenv()} (Not modified)
     * @throws IllegalArgumentException naming the missing or invalid variable
     */
    public static RendezvousConfig fromEnvironment(Map<String, String> env) {
        return LaunchEnvironment.parse(env);
    }

    /** Whether env holds the variables of any supported launcher (else the run is single-process). */
    public static boolean hasLaunchEnvironment(Map<String, String> env) {
        return LaunchEnvironment.detect(env) != null;
    }

    /** A copy of the job secret. */
    @Override
    public byte[] secret() {
        return secret.clone();
    }

    /** The same configuration with another collective timeout. */
    public RendezvousConfig withCollectiveTimeout(Duration timeout) {
        return new RendezvousConfig(masterAddr, masterPort, rank, worldSize, localRank, jobId, secret, timeout,
                maxFrameBytes, convention);
    }

    /** The same configuration with another frame limit. */
    public RendezvousConfig withMaxFrameBytes(long bytes) {
        return new RendezvousConfig(masterAddr, masterPort, rank, worldSize, localRank, jobId, secret,
                collectiveTimeout, bytes, convention);
    }

    /** The same configuration with another rendezvous port. */
    public RendezvousConfig withMasterPort(int port) {
        return new RendezvousConfig(masterAddr, port, rank, worldSize, localRank, jobId, secret, collectiveTimeout,
                maxFrameBytes, convention);
    }

    /** Shows every field but the secret. */
    @Override
    public String toString() {
        return "RendezvousConfig[" + convention + " rank " + rank + "/" + worldSize + " local " + localRank + ", master "
                + masterAddr + ":" + masterPort + ", job '" + jobId + "', secret " + secret.length
                + " bytes, collective timeout " + collectiveTimeout + ", max frame " + maxFrameBytes + " bytes]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RendezvousConfig c && masterAddr.equals(c.masterAddr) && masterPort == c.masterPort
                && rank == c.rank && worldSize == c.worldSize && localRank == c.localRank && jobId.equals(c.jobId)
                && java.util.Arrays.equals(secret, c.secret) && collectiveTimeout.equals(c.collectiveTimeout)
                && maxFrameBytes == c.maxFrameBytes && convention == c.convention;
    }

    @Override
    public int hashCode() {
        return Objects.hash(masterAddr, masterPort, rank, worldSize, jobId, convention);
    }
}
