package org.moe4j.benchmarks;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.moe4j.moe.MoeConfig;
import org.moe4j.moe.MoeLayer;
import org.moe4j.nn.LayerContext;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * How the cost of an MoE layer's forward+backward grows: with the number of experts E (8, 32, 128,
 * 256) at a fixed 4096 tokens, and with the tokens T (1k, 4k, 16k) at E = 8; always top-2 over GELU
 * experts of width 1024 at D = 256 and capacity factor 1.25, so the active compute per token is the
 * same everywhere and only routing, dispatch and the number of (ever smaller) expert GEMMs change.
 * Prints a markdown table: tokens/s (median of {@value #STEPS} steps after {@value #WARMUP}) and
 * the share of the timed steps' wall time in each phase ({@link PhaseTimer}), in garbage collection
 * (the JVM's collectors' own count), and on the host (the rest: plan building, tape bookkeeping,
 * allocation).
 *
 * <pre>{@code
 * $JAVA_HOME/bin/java --add-modules=jdk.incubator.vector -Xms8g -Xmx8g -XX:+UseParallelGC -XX:+UseTransparentHugePages \
 *     -cp benchmarks/target/benchmarks.jar org.moe4j.benchmarks.MoeCostGrowth
 * }</pre>
 */
public final class MoeCostGrowth {
    static final int WIDTH = 256;
    static final int HIDDEN = 1024;
    static final int K = 2;
    static final double CAPACITY_FACTOR = 1.25;
    private static final int WARMUP = 3;
    private static final int STEPS = 10;
    private static final String[] PHASES = {PhaseTimer.ROUTING, PhaseTimer.DISPATCH, PhaseTimer.GEMM,
        PhaseTimer.ELEMENTWISE, PhaseTimer.OTHER};

    private MoeCostGrowth() {
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    }

    public static void main(String[] args) {
        List<int[]> points = new ArrayList<>();
        for (int experts : new int[] {8, 32, 128, 256}) {
            points.add(new int[] {experts, 4096});
        }
        for (int tokens : new int[] {1024, 16384}) {
            points.add(new int[] {8, tokens});
        }
        row(8, 4096);  // the JIT's warm-up, so that the first row is not the one that pays for it
        System.out.println("| E | T | C | tokens/s | routing | dispatch | GEMM | elementwise | other kernels | GC | host |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int[] point : points) {
            System.out.println(row(point[0], point[1]));
        }
    }

    private static String row(int experts, int tokens) {
        try (PhaseTimer on = new PhaseTimer(BenchDevice.withOverrides())) {
            MoeConfig config = new MoeConfig("topk", experts, K, CAPACITY_FACTOR, 2.0, false, 0.01, 0.001, 0.0, "gelu",
                    HIDDEN, 1);
            MoeLayer layer = new MoeLayer(config, WIDTH, new LayerContext(on, new SplitMix64(1)));
            SplittableRandom random = new SplittableRandom(7);
            Tensor x = Tensor.of(on, true, MoeLayerBench.gaussian(random, tokens * WIDTH), tokens, WIDTH);
            float[] outputGrad = MoeLayerBench.gaussian(random, tokens * WIDTH);
            Map<String, Tensor> parameters = new LinkedHashMap<>();
            layer.collectParameters("", parameters);
            double[] seconds = new double[STEPS];
            Map<String, Long> phases = new LinkedHashMap<>();
            long gcMillis = 0;
            for (int step = 0; step < WARMUP + STEPS; step++) {
                x.zeroGrad();
                parameters.values().forEach(Tensor::zeroGrad);
                on.reset();
                long gcBefore = gcMillis();
                long start = System.nanoTime();
                Tape tape = Tape.training(on);
                tape.backward(layer.forward(tape, x), outputGrad);
                on.finish();
                if (step >= WARMUP) {
                    seconds[step - WARMUP] = (System.nanoTime() - start) / 1e9;
                    on.nanos().forEach((phase, t) -> phases.merge(phase, t, Long::sum));
                    gcMillis += gcMillis() - gcBefore;
                }
            }
            double total = Arrays.stream(seconds).sum() * 1e9;
            Arrays.sort(seconds);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %d | %d | %.0f |", experts, tokens,
                    layer.lastStats().capacity(), tokens / seconds[STEPS / 2]));
            long kernels = 0;
            for (String phase : PHASES) {
                long t = phases.getOrDefault(phase, 0L);
                kernels += t;
                row.append(String.format(Locale.ROOT, " %.0f%% |", 100 * t / total));
            }
            double gc = gcMillis * 1e6;
            return row.append(String.format(Locale.ROOT, " %.0f%% | %.0f%% |", 100 * gc / total,
                    100 * Math.max(0, total - kernels - gc) / total)).toString();
        }
    }
}
