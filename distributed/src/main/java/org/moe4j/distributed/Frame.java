package org.moe4j.distributed;

/**
 * The frame format on a data link. Little-endian.
 *
 * <pre>
 * header  int magic 'M4JF', int op id, long sequence, int source rank, long payload length in bytes
 * payload length bytes (float/int/long elements)
 * trailer int CRC32C over header and payload
 * </pre>
 */
final class Frame {
    static final int MAGIC = 0x4D344A46;
    static final int HEADER_BYTES = 28;
    static final int TRAILER_BYTES = 4;
    /** Largest payload of an ABORT frame. */
    static final int MAX_ABORT_BYTES = 4096;

    private Frame() {
    }

    /** A parsed header. */
    record Header(int op, long sequence, int source, long length) {
        String describe() {
            Op known = Op.byId(op);
            return (known == null ? "unknown op " + op : known.frameName()) + " #" + sequence;
        }
    }

    /** A peer's report that the group failed. */
    record Abort(int lostRank, String message) {
    }
}
