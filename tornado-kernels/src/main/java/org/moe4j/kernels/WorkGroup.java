package org.moe4j.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The state one work-group shares on the JVM device: its local arrays and, for kernels that call
 * {@link KernelContext#localBarrier()}, the barrier its work-items meet at.
 *
 * <p>The barrier fails rather than hangs: when a work-item throws ({@link #fail}) or returns
 * ({@link #exit}) while others wait at a barrier, or reaches a barrier after another returned, the
 * waiting work-items throw. A kernel whose work-items do not all reach every barrier is wrong on an
 * accelerator too (it hangs or races there).
 */
final class WorkGroup {
    private final int parties;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition tripped = lock.newCondition();
    private final List<Object> localArrays = new ArrayList<>();
    private int waiting;
    private int generation;
    private int exited;
    private String failure;

    /** @param parties work-items meeting at the barrier; 0 when the kernel never calls {@code localBarrier()} */
    WorkGroup(int parties) {
        this.parties = parties;
    }

    void barrier() {
        if (parties == 0) {
            throw new IllegalStateException("localBarrier() reached in a kernel launched without barrier support");
        }
        lock.lock();
        try {
            if (failure == null && exited > 0) {
                failure = exited + " work-item(s) returned without reaching a localBarrier() that others reached";
                tripped.signalAll();
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
            int arrivedIn = generation;
            if (++waiting == parties) {
                waiting = 0;
                generation++;
                tripped.signalAll();
                return;
            }
            while (arrivedIn == generation && failure == null) {
                tripped.awaitUninterruptibly();
            }
            if (arrivedIn == generation) {
                throw new IllegalStateException(failure);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A work-item threw: wakes the work-items waiting at the barrier, which then throw too. */
    void fail(Throwable cause) {
        lock.lock();
        try {
            if (failure == null) {
                failure = "another work-item of the group failed: " + cause;
            }
            tripped.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A work-item returned; it is an error if others wait at a barrier it did not reach. */
    void exit() {
        lock.lock();
        try {
            exited++;
            if (waiting > 0 && failure == null) {
                failure = "a work-item returned without reaching a localBarrier() that " + waiting + " others reached";
                tripped.signalAll();
            }
        } finally {
            lock.unlock();
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
