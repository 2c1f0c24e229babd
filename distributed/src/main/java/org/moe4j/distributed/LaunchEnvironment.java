package org.moe4j.distributed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Reads a {@link RendezvousConfig} from launcher environment variables (rules in docs/distributed.md). */
final class LaunchEnvironment {
    private LaunchEnvironment() {
    }

    /** The convention whose variables are present, in priority order, or null. */
    static LaunchConvention detect(Map<String, String> env) {
        if (has(env, "RANK") || has(env, "WORLD_SIZE")) {
            return isTorchrun(env) ? LaunchConvention.TORCHRUN : LaunchConvention.ENVIRONMENT;
        }
        if (has(env, "OMPI_COMM_WORLD_RANK")) {
            return LaunchConvention.OPEN_MPI;
        }
        if (has(env, "SLURM_PROCID")) {
            return LaunchConvention.SLURM;
        }
        return null;
    }

    static boolean isTorchrun(Map<String, String> env) {
        return has(env, "TORCHELASTIC_RUN_ID") || has(env, "TORCHELASTIC_USE_AGENT_STORE")
                || has(env, "TORCHELASTIC_AGENT_STORE");
    }

    static RendezvousConfig parse(Map<String, String> env) {
        LaunchConvention convention = detect(env);
        if (convention == null) {
            throw new IllegalArgumentException("no launcher environment found: set RANK and WORLD_SIZE (with"
                    + " MASTER_ADDR and MASTER_PORT), or start under srun (SLURM_PROCID) or mpirun"
                    + " (OMPI_COMM_WORLD_RANK)");
        }
        int rank;
        int worldSize;
        int localRank;
        String master;
        int port;
        switch (convention) {
            case TORCHRUN, ENVIRONMENT -> {
                rank = integer(env, "RANK", null);
                worldSize = integer(env, "WORLD_SIZE", null);
                localRank = integer(env, "LOCAL_RANK", 0);
                master = worldSize > 1 ? required(env, "MASTER_ADDR") : env.getOrDefault("MASTER_ADDR", "127.0.0.1");
                if (has(env, "MOE_RENDEZVOUS_PORT")) {
                    port = port(env, "MOE_RENDEZVOUS_PORT");
                } else if (worldSize == 1 && !has(env, "MASTER_PORT")) {
                    port = RendezvousConfig.DEFAULT_PORT;
                } else if (convention == LaunchConvention.TORCHRUN) {
                    int masterPort = port(env, "MASTER_PORT");
                    if (masterPort == 65535) {
                        throw new IllegalArgumentException("MASTER_PORT=65535 leaves no port above it for the"
                                + " moe4j rendezvous under torchrun; set MOE_RENDEZVOUS_PORT");
                    }
                    port = masterPort + 1;
                } else {
                    port = port(env, "MASTER_PORT");
                }
            }
            case OPEN_MPI -> {
                rank = integer(env, "OMPI_COMM_WORLD_RANK", null);
                worldSize = integer(env, "OMPI_COMM_WORLD_SIZE", null);
                localRank = integer(env, "OMPI_COMM_WORLD_LOCAL_RANK", 0);
                if (has(env, "MASTER_ADDR")) {
                    master = env.get("MASTER_ADDR").strip();
                } else if (worldSize == 1 || (has(env, "OMPI_COMM_WORLD_LOCAL_SIZE")
                        && integer(env, "OMPI_COMM_WORLD_LOCAL_SIZE", null) == worldSize)) {
                    master = "127.0.0.1";
                } else {
                    throw new IllegalArgumentException("MASTER_ADDR is not set: under mpirun on several machines,"
                            + " pass the host of rank 0 with mpirun -x MASTER_ADDR=<host>");
                }
                port = optionalPort(env, RendezvousConfig.DEFAULT_PORT);
            }
            case SLURM -> {
                rank = integer(env, "SLURM_PROCID", null);
                worldSize = has(env, "SLURM_NTASKS") ? integer(env, "SLURM_NTASKS", null)
                        : integer(env, "SLURM_NPROCS", null);
                localRank = integer(env, "SLURM_LOCALID", 0);
                if (has(env, "MASTER_ADDR")) {
                    master = env.get("MASTER_ADDR").strip();
                } else {
                    String key = has(env, "SLURM_JOB_NODELIST") ? "SLURM_JOB_NODELIST" : "SLURM_NODELIST";
                    try {
                        master = SlurmNodeList.firstHost(required(env, key));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
                    }
                }
                int fallback = RendezvousConfig.DEFAULT_PORT;
                if (has(env, "SLURM_JOB_ID")) {
                    fallback += (int) (integer(env, "SLURM_JOB_ID", null) % 1000L);
                }
                port = optionalPort(env, fallback);
            }
            default -> throw new IllegalStateException("unhandled convention " + convention);
        }
        String rankName = rankVariable(convention);
        if (worldSize < 1) {
            throw new IllegalArgumentException(sizeVariable(convention) + "=" + worldSize + " must be at least 1");
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException(rankName + "=" + rank + " is not in [0, " + worldSize + ") given by "
                    + sizeVariable(convention));
        }
        if (localRank < 0) {
            throw new IllegalArgumentException("local rank " + localRank + " must not be negative");
        }
        return new RendezvousConfig(master, port, rank, worldSize, localRank, jobId(env), secret(env, worldSize),
                collectiveTimeout(env), maxFrameBytes(env), convention);
    }

    private static String rankVariable(LaunchConvention c) {
        return switch (c) {
            case OPEN_MPI -> "OMPI_COMM_WORLD_RANK";
            case SLURM -> "SLURM_PROCID";
            default -> "RANK";
        };
    }

    private static String sizeVariable(LaunchConvention c) {
        return switch (c) {
            case OPEN_MPI -> "OMPI_COMM_WORLD_SIZE";
            case SLURM -> "SLURM_NTASKS";
            default -> "WORLD_SIZE";
        };
    }

    private static String jobId(Map<String, String> env) {
        for (String key : new String[] {"MOE_JOB_ID", "TORCHELASTIC_RUN_ID", "SLURM_JOB_ID"}) {
            if (has(env, key)) {
                String id = env.get(key).strip();
                if (id.length() > 200) {
                    throw new IllegalArgumentException(key + " is longer than 200 characters");
                }
                return id;
            }
        }
        return RendezvousConfig.DEFAULT_JOB_ID;
    }

    private static byte[] secret(Map<String, String> env, int worldSize) {
        boolean inline = has(env, "MOE_JOB_SECRET");
        boolean file = has(env, "MOE_JOB_SECRET_FILE");
        if (inline && file) {
            throw new IllegalArgumentException("both MOE_JOB_SECRET and MOE_JOB_SECRET_FILE are set: set only one");
        }
        byte[] secret;
        if (inline) {
            secret = env.get("MOE_JOB_SECRET").getBytes(StandardCharsets.UTF_8);
        } else if (file) {
            Path path = Path.of(env.get("MOE_JOB_SECRET_FILE").strip());
            try {
                secret = Files.readString(path, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("MOE_JOB_SECRET_FILE=" + path + " cannot be read: " + e, e);
            }
            if (secret.length == 0) {
                throw new IllegalArgumentException("MOE_JOB_SECRET_FILE=" + path + " is empty");
            }
        } else if (worldSize > 1) {
            throw new IllegalArgumentException("no job secret: set MOE_JOB_SECRET or MOE_JOB_SECRET_FILE to the same"
                    + " value on every rank (WORLD_SIZE=" + worldSize + ")");
        } else {
            secret = new byte[0];
        }
        return secret;
    }

    private static Duration collectiveTimeout(Map<String, String> env) {
        if (!has(env, "MOE_COLLECTIVE_TIMEOUT_S")) {
            return RendezvousConfig.DEFAULT_COLLECTIVE_TIMEOUT;
        }
        String text = env.get("MOE_COLLECTIVE_TIMEOUT_S").strip();
        double seconds;
        try {
            seconds = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            seconds = Double.NaN;
        }
        if (!(seconds > 0) || seconds > 1e7) {
            throw new IllegalArgumentException("MOE_COLLECTIVE_TIMEOUT_S='" + text
                    + "' is not a positive number of seconds");
        }
        return Duration.ofNanos((long) (seconds * 1e9));
    }

    private static long maxFrameBytes(Map<String, String> env) {
        if (!has(env, "MOE_MAX_FRAME_BYTES")) {
            return RendezvousConfig.DEFAULT_MAX_FRAME_BYTES;
        }
        String text = env.get("MOE_MAX_FRAME_BYTES").strip();
        long bytes;
        try {
            bytes = Long.parseLong(text);
        } catch (NumberFormatException e) {
            bytes = -1;
        }
        if (bytes < RendezvousConfig.MIN_MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("MOE_MAX_FRAME_BYTES='" + text + "' must be an integer of at least "
                    + RendezvousConfig.MIN_MAX_FRAME_BYTES);
        }
        return bytes;
    }

    private static int optionalPort(Map<String, String> env, int fallback) {
        if (has(env, "MOE_RENDEZVOUS_PORT")) {
            return port(env, "MOE_RENDEZVOUS_PORT");
        }
        return has(env, "MASTER_PORT") ? port(env, "MASTER_PORT") : fallback;
    }

    private static int port(Map<String, String> env, String key) {
        String text = required(env, key);
        int port;
        try {
            port = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(key + "='" + text + "' is not a port number (1-65535)");
        }
        return port;
    }

    private static int integer(Map<String, String> env, String key, Integer fallback) {
        if (!has(env, key)) {
            if (fallback == null) {
                throw new IllegalArgumentException(key + " is not set");
            }
            return fallback;
        }
        String text = env.get(key).strip();
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "='" + text + "' is not an integer", e);
        }
    }

    private static String required(Map<String, String> env, String key) {
        if (!has(env, key)) {
            throw new IllegalArgumentException(key + " is not set");
        }
        return env.get(key).strip();
    }

    private static boolean has(Map<String, String> env, String key) {
        String value = env.get(key);
        return value != null && !value.isBlank();
    }
}
