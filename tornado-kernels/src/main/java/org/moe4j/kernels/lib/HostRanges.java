package org.moe4j.kernels.lib;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/** Splits the work of a host override over the fork/join pool it runs in (the JVM device's). */
final class HostRanges {
    /** Below this much work (elements, or rows times width) an override runs on the calling thread. */
    static final long SERIAL_WORK = 1 << 15;

    private HostRanges() {
    }

    /** The body of one contiguous range {@code [from, to)}. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over {@code [0, count)} in contiguous ranges, a few per pool thread, or in one
     * range when {@code count·width} is below {@link #SERIAL_WORK}. Each index is processed once, by
     * one range, so the split cannot change results.
     */
    static void split(int count, long width, Range body) {
        ForkJoinPool pool = ForkJoinTask.getPool();
        int threads = pool != null ? pool.getParallelism() : 1;
        if (threads <= 1 || count * width < SERIAL_WORK) {
            body.run(0, count);
            return;
        }
        int per = Math.ceilDiv(count, 4 * threads);
        List<RecursiveAction> actions = new ArrayList<>();
        for (int from = 0; from < count; from += per) {
            int start = from;
            int end = Math.min(count, from + per);
            actions.add(new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(start, end);
                }
            });
        }
        ForkJoinTask.invokeAll(actions);
    }
}
