package org.moe4j.distributed;

/** Which launcher's environment variables a {@link RendezvousConfig} was read from. */
public enum LaunchConvention {
    /** {@code RANK}/{@code WORLD_SIZE} set by torchrun (its agent store owns {@code MASTER_PORT}). */
    TORCHRUN,
    /** {@code RANK}/{@code WORLD_SIZE}/{@code MASTER_ADDR}/{@code MASTER_PORT} set by hand or a script. */
    ENVIRONMENT,
    /** {@code SLURM_PROCID}/{@code SLURM_NTASKS} set by {@code srun}. */
    SLURM,
    /** {@code OMPI_COMM_WORLD_RANK}/{@code OMPI_COMM_WORLD_SIZE} set by Open MPI's {@code mpirun}. */
    OPEN_MPI,
    /** Built in code with {@link RendezvousConfig#of}. */
    EXPLICIT
}
