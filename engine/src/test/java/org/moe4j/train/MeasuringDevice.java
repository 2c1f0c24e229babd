package org.moe4j.train;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.KernelRef;
import org.moe4j.kernels.Launch;

/**
 * A device that hands everything to another and watches two things: how often each kernel method
 * is launched, and the bytes of the arrays it allocated that are still reachable (by weak
 * references, after a full collection), in total and by category. An array's category is the first
 * of {@link #categories} whose class appears on the stack of its allocation, else {@code other};
 * so the tensors the token exchange creates can be told from the rest.
 *
 * <p>While {@link #watchPeak} is on, every allocation that may have raised the reachable total by
 * more than {@code slack} above the highest total seen collects and counts again, so
 * {@link #peakBytes()} is the highest reachable total at any allocation, within the slack (nothing
 * can grow the total but an allocation). One device per thread.
 */
final class MeasuringDevice implements Device {
    private final Device inner;
    private final Map<String, Class<?>> categories;
    private final Map<String, Integer> launches = new LinkedHashMap<>();
    private final List<Tracked> tracked = new ArrayList<>();
    private boolean watching;
    private double slack;
    private long peak;
    /** The exact reachable total at the last collection, plus every byte allocated since. */
    private long upperBound;

    /** @param categories category name to a class whose methods allocate that category's arrays */
    MeasuringDevice(Device inner, Map<String, Class<?>> categories) {
        this.inner = inner;
        this.categories = categories;
    }

    private record Tracked(WeakReference<Object> array, long bytes, String category) {
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public float[] allocateFloats(int length) {
        return track(inner.allocateFloats(length), 4L * length);
    }

    @Override
    public int[] allocateInts(int length) {
        return track(inner.allocateInts(length), 4L * length);
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
        if (categories.isEmpty()) {
            return "other";
        }
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames
                .map(frame -> categoryOf(frame.getDeclaringClass())).filter(c -> c != null).findFirst()
                .orElse("other"));
    }

    private String categoryOf(Class<?> type) {
        for (Map.Entry<String, Class<?>> entry : categories.entrySet()) {
            if (entry.getValue() == type || entry.getValue() == type.getEnclosingClass()) {
                return entry.getKey();
            }
        }
        return null;
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

    @Override
    public void launch(Launch launch) {
        launches.merge(kernelName(launch.kernel()), 1, Integer::sum);
        inner.launch(launch);
    }

    private static String kernelName(KernelRef kernel) {
        return KernelMethod.of(kernel).displayName();
    }

    @Override
    public void copyToDevice(Object array) {
        inner.copyToDevice(array);
    }

    @Override
    public void copyToHost(Object array) {
        inner.copyToHost(array);
    }

    @Override
    public void release(Object array) {
        inner.release(array);
    }

    @Override
    public void finish() {
        inner.finish();
    }

    @Override
    public void close() {
        inner.close();
    }
}
