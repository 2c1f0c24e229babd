package org.moe4j.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * The state one work-group shares on the JVM device: its local arrays and, for kernels that call
 * {@link KernelContext#localBarrier()}, the barrier its work-items meet at.
 */
final class WorkGroup {
    private final CyclicBarrier barrier;
    private final List<Object> localArrays = new ArrayList<>();

    /** @param barrier null when the kernel never calls {@code localBarrier()} */
    WorkGroup(CyclicBarrier barrier) {
        this.barrier = barrier;
    }

    void barrier() {
        if (barrier == null) {
            throw new IllegalStateException("localBarrier() reached in a kernel launched without barrier support");
        }
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("work-item interrupted at localBarrier()", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("another work-item of the group failed before localBarrier()", e);
        }
    }

    synchronized float[] localFloats(int index, int size) {
        return (float[]) local(index, size, true);
    }

    synchronized int[] localInts(int index, int size) {
        return (int[]) local(index, size, false);
    }

    private Object local(int index, int size, boolean isFloat) {
        if (index == localArrays.size()) {
            localArrays.add(isFloat ? new float[size] : new int[size]);
        }
        Object array = localArrays.get(index);
        int existing = isFloat ? ((float[]) array).length : ((int[]) array).length;
        if (existing != size || (array instanceof float[]) != isFloat) {
            throw new IllegalStateException("work-items disagree on local array #" + index
                    + ": sizes " + existing + " and " + size);
        }
        return array;
    }

    /** Resets the local arrays so that a pooled group can serve the next group id. */
    void clear() {
        localArrays.clear();
    }
}
