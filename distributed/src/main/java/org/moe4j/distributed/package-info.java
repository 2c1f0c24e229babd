/**
 * Process groups, rendezvous and collectives over TCP for expert parallelism; nothing here
 * depends on the engine.
 *
 * <p>{@link org.moe4j.distributed.RendezvousConfig} reads the launcher conventions (torchrun,
 * Slurm, Open MPI); {@link org.moe4j.distributed.ProcessGroup#join} meets the other ranks through
 * a small store hosted by rank 0, authenticates every connection with the job secret and builds a
 * full mesh of {@code java.nio} socket channels; the group then runs all-to-all with uneven splits,
 * ring all-reduce, broadcast, barrier and all-gather. Every collective has a timeout; a lost peer
 * ends every rank with a {@link org.moe4j.distributed.PeerLostException} naming the operation, its
 * sequence number and the lost rank. Frames, the handshake and failure rules are described in
 * {@code docs/distributed.md}.
 *
 * <p>Letters: {@code W} world size (number of ranks), {@code r} this rank, {@code p} a peer rank.
 */
package org.moe4j.distributed;
