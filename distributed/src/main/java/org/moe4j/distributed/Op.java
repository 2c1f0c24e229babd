package org.moe4j.distributed;

/** The operation a frame belongs to; its id travels in every frame header. */
enum Op {
    ALL_TO_ALL_COUNTS(1, "allToAll"),
    ALL_TO_ALL(2, "allToAll"),
    ALL_TO_ALL_INTS(3, "allToAll"),
    ALL_REDUCE_SUM(4, "allReduceSum"),
    BROADCAST(5, "broadcast"),
    BARRIER(6, "barrier"),
    ALL_GATHER(7, "allGather"),
    REDUCE_SCATTER_SUM(8, "reduceScatterSum"),
    ALL_GATHER_CHUNKS(9, "allGatherChunks"),
    /** A rank failed; payload: int lost rank, then a UTF-8 message. */
    ABORT(99, "abort");

    final int id;
    final String displayName;

    Op(int id, String displayName) {
        this.id = id;
        this.displayName = displayName;
    }

    /** The op with this id, or null. */
    static Op byId(int id) {
        for (Op op : values()) {
            if (op.id == id) {
                return op;
            }
        }
        return null;
    }

    /** Name for messages, including the frame kind where one operation sends two. */
    String frameName() {
        return this == ALL_TO_ALL_COUNTS ? "allToAll counts" : displayName;
    }
}
