package org.moe4j.kernels;

/**
 * A device whose arrays live in memory of its own, moved by the rules of {@link ResidentBuffers};
 * what it reports about them.
 */
public interface ResidentDevice extends Device {

    /** Copies between host and device so far. */
    Transfers transfers();

    /** Whether the device holds a buffer for {@code array}. */
    boolean holds(Object array);

    /** Bytes of device buffers held now. */
    long deviceBytes();
}
