package org.moe4j.kernels;

/**
 * What one work-item of a kernel sees: its ids and the grid's sizes, the work-group barrier, and
 * work-group local arrays. Field and method names follow TornadoVM's {@code KernelContext} so that
 * kernels read the same to anyone who knows it (or CUDA/OpenCL: {@code globalIdx} is
 * {@code get_global_id(0)}, {@code localIdx} is {@code get_local_id(0)}).
 *
 * <p>Kernels only read the public fields; devices set them before each work-item runs.
 */
public final class KernelContext {
    public int globalIdx;
    public int globalIdy;
    public int localIdx;
    public int localIdy;
    public int groupIdx;
    public int groupIdy;
    /** Global size of dimension 0 (number of work-items along x). */
    public int globalGroupSizeX;
    /** Global size of dimension 1; 1 for a 1-D grid. */
    public int globalGroupSizeY;
    /** Work-group size along x. */
    public int localGroupSizeX;
    /** Work-group size along y; 1 for a 1-D grid. */
    public int localGroupSizeY;

    private final WorkGroup group;
    private int localArraysTaken;

    KernelContext(WorkGroup group) {
        this.group = group;
    }

    /** Waits until every work-item of this work-group has reached the barrier. */
    public void localBarrier() {
        group.barrier();
    }

    /**
     * A float array shared by the work-items of this work-group. Each work-item must make the same
     * sequence of calls (as in OpenCL, where local arrays are declared at kernel scope); the n-th
     * call of every work-item returns the same array.
     */
    public float[] allocateFloatLocalArray(int size) {
        return group.localFloats(localArraysTaken++, size);
    }

    /** An int array shared by the work-items of this work-group; see {@link #allocateFloatLocalArray}. */
    public int[] allocateIntLocalArray(int size) {
        return group.localInts(localArraysTaken++, size);
    }

    void resetLocalArrays() {
        localArraysTaken = 0;
    }
}
