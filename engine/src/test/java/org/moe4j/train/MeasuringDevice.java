package org.moe4j.train;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.ForwardingDevice;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.KernelRef;
import org.moe4j.kernels.Launch;

/**
 * A device that hands everything to another and watches two things: how often each kernel method
 * is launched, and the bytes of the arrays it allocated that are still reachable (by weak
 * references, after a full collection), in total and by category. An array's category is what
 * the categorizer makes of the stack of its allocation (so the tensors the token exchange creates
 * can be told from the rest), {@code other} without one. {@link #snapshotAt} takes the reachable
 * bytes at the next launch of a kernel (the first kernel of the backward pass, say).
 *
 * <p>While {@link #watchPeak} is on, every allocation that may have raised the reachable total by
 * more than {@code slack} above the highest total seen collects and counts again, so
 * {@link #peakBytes()} is the highest reachable total at any allocation, within the slack (nothing
 * can grow the total but an allocation). One device per thread.
 */
final class MeasuringDevice extends ForwardingDevice {
    private final Function<List<StackWalker.StackFrame>, String> categorizer;
    private final Map<String, Integer> launches = new LinkedHashMap<>();
    private final List<Tracked> tracked = new ArrayList<>();
    private boolean watching;
    private double slack;
    private long peak;
    /** The exact reachable total at the last collection, plus every byte allocated since. */
    private long upperBound;

    private String snapshotKernel;
    private Map<String, Long> snapshot;

    /** @param categorizer the category of an allocation from its stack, innermost frame first; null: all {@code other} */
    MeasuringDevice(Device inner, Function<List<StackWalker.StackFrame>, String> categorizer) {
        super(inner);
        this.categorizer = categorizer;
    }

    private record Tracked(WeakReference<Object> array, long bytes, String category) {
    }

    @Override
    public float[] allocateFloats(int length) {
        return track(delegate().allocateFloats(length), 4L * length);
    }

    @Override
    public int[] allocateInts(int length) {
        return track(delegate().allocateInts(length), 4L * length);
    }

    private <T> T track(T array, long bytes) {
        tracked.add(new Tracked(new WeakReference<>(array), bytes, category()));
        upperBound += bytes;
        if (watching && upperBound > peak * (1 + slack)) {
            peak = Math.max(peak, reachable().values().stream().mapToLong(Long::longValue).sum());
        }
        return array;
    }

    private String category() {
        if (categorizer == null) {
            return "other";
        }
        return categorizer.apply(StackWalker.getInstance().walk(frames -> frames.toList()));
    }

    /** Reachable bytes by category, after a full collection; forgets the arrays that are gone. */
    Map<String, Long> reachable() {
        System.gc();
        Map<String, Long> bytes = new LinkedHashMap<>();
        long total = 0;
        List<Tracked> alive = new ArrayList<>();
        for (Tracked t : tracked) {
            if (t.array().get() != null) {
                alive.add(t);
                bytes.merge(t.category(), t.bytes(), Long::sum);
                total += t.bytes();
            }
        }
        tracked.clear();
        tracked.addAll(alive);
        upperBound = total;
        return bytes;
    }

    /** Starts (or stops) following the peak, from the reachable total now. */
    void watchPeak(boolean on, double slack) {
        this.slack = slack;
        if (on) {
            peak = reachable().values().stream().mapToLong(Long::longValue).sum();
        }
        watching = on;
    }

    /** The highest reachable total seen while watching. */
    long peakBytes() {
        return peak;
    }

    /** Launches of each kernel method ({@code Router.topK}) so far. */
    Map<String, Integer> launches() {
        return launches;
    }

    /** Takes {@link #reachable()} at the next launch of {@code kernel} ({@code CrossEntropy.crossEntropyBackward}). */
    void snapshotAt(String kernel) {
        snapshotKernel = kernel;
        snapshot = null;
    }

    /** The bytes {@link #snapshotAt} took, by category; null before the kernel ran. */
    Map<String, Long> snapshot() {
        return snapshot;
    }

    @Override
    public void launch(Launch launch) {
        String kernel = kernelName(launch.kernel());
        launches.merge(kernel, 1, Integer::sum);
        if (kernel.equals(snapshotKernel)) {
            snapshotKernel = null;
            snapshot = reachable();
        }
        delegate().launch(launch);
    }

    private static String kernelName(KernelRef kernel) {
        return KernelMethod.of(kernel).displayName();
    }
}
