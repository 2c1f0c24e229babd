package org.moe4j.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.ForwardingDevice;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.Launch;

/**
 * A device that runs every launch on another and adds its wall time to the phase of its kernel's
 * class: routing (router, softmax, its losses), dispatch (the scatter, gather and combine), GEMM,
 * elementwise (activations, biases, plain arithmetic) and other. Meant for a synchronous device
 * (the JVM's), where a launch's time is its work.
 */
final class PhaseTimer extends ForwardingDevice {
    static final String ROUTING = "routing";
    static final String DISPATCH = "dispatch";
    static final String GEMM = "gemm";
    static final String ELEMENTWISE = "elementwise";
    static final String OTHER = "other";
    private static final Map<String, String> PHASE_OF_CLASS = Map.of(
            "Router", ROUTING, "RouterLoss", ROUTING, "Softmax", ROUTING,
            "Dispatch", DISPATCH,
            "Gemm", GEMM, "BatchedGemm", GEMM,
            "Activation", ELEMENTWISE, "Bias", ELEMENTWISE, "Elementwise", ELEMENTWISE, "Reduce", ELEMENTWISE);

    private final Map<String, Long> nanos = new LinkedHashMap<>();

    PhaseTimer(Device device) {
        super(device);
        for (String phase : new String[] {ROUTING, DISPATCH, GEMM, ELEMENTWISE, OTHER}) {
            nanos.put(phase, 0L);
        }
    }

    @Override
    public void launch(Launch launch) {
        long start = System.nanoTime();
        delegate().launch(launch);
        String name = KernelMethod.of(launch.kernel()).displayName();
        String phase = PHASE_OF_CLASS.getOrDefault(name.substring(0, name.indexOf('.')), OTHER);
        nanos.merge(phase, System.nanoTime() - start, Long::sum);
    }

    /** Nanoseconds per phase since the last {@link #reset()}. */
    Map<String, Long> nanos() {
        return Map.copyOf(nanos);
    }

    void reset() {
        nanos.replaceAll((phase, t) -> 0L);
    }
}
