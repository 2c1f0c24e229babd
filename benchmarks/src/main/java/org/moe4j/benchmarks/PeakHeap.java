package org.moe4j.benchmarks;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import com.sun.management.GarbageCollectionNotificationInfo;
import org.moe4j.data.Batch;
import org.moe4j.data.TokenDataset;
import org.moe4j.kernels.Device;
import org.moe4j.nn.GptModel;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.AdamWOptimizer;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.GradientClipper;
import org.moe4j.train.ParallelLayout;
import org.moe4j.train.ScalePlan;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.TrainingData;

/**
 * The Java heap the default model's training needs ({@code TrainConfig.DEFAULT}, one process),
 * with activation recomputation off and on, measured by the JVM and set beside {@code moe plan}:
 * the smallest {@code -Xmx} (to {@value #RESOLUTION_MIB} MiB) at which a child JVM trains
 * {@value #STEPS} steps without an {@link OutOfMemoryError}, and in that run the most heap in use
 * after any collection (the collectors' notifications; the heap is small there, so collections
 * are frequent and this is close to the peak of live data) and the heap in use after a full
 * collection before the model is built (the JVM's and the engine's own objects).
 *
 * <p>The child runs the collector the {@code moe} launcher runs, Parallel GC (G1 needs more: its
 * large arrays take whole regions), and the trainer's step (forward, backward, clipping, AdamW) without the
 * {@code Trainer}, whose plan check would refuse a heap below the plan.
 *
 * <pre>{@code
 * $JAVA_HOME/bin/java --add-modules=jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.moe4j.benchmarks.PeakHeap
 * }</pre>
 */
public final class PeakHeap {
    private static final int STEPS = 3;
    private static final int RESOLUTION_MIB = 4;
    /** The exit status of a child out of heap: {@code -XX:+ExitOnOutOfMemoryError}'s, and the child's own. */
    private static final int CHILD_FAILED = 3;

    private PeakHeap() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("child")) {
            System.exit(child(Boolean.parseBoolean(args[1])));
        }
        System.out.println("| recompute | smallest -Xmx that trains | most heap in use after a GC there | before the model"
                + " | moe plan: total | moe plan: heap to pass |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (boolean recompute : new boolean[] {false, true}) {
            TrainConfig config = config(recompute);
            ScalePlan plan = ScalePlan.of(config, ParallelLayout.of(config, 1));
            int low = RESOLUTION_MIB;
            int high = 1024;
            String[] best = run(high, recompute);
            if (best == null) {
                throw new IllegalStateException("the default model does not train in -Xmx" + high + "m");
            }
            while (high - low > RESOLUTION_MIB) {
                int mid = (low + high) / 2;
                String[] result = run(mid, recompute);
                if (result != null) {
                    high = mid;
                    best = result;
                } else {
                    low = mid;
                }
            }
            System.out.printf(Locale.ROOT, "| %s | %d MiB | %.1f MiB | %.1f MiB | %.1f MiB | %s |%n", recompute ? "on" : "off",
                    high, Long.parseLong(best[0]) / 1048576.0, Long.parseLong(best[1]) / 1048576.0,
                    plan.totalBytes() / 1048576.0, plan.xmx());
        }
    }

    private static TrainConfig config(boolean recompute) {
        return new ConfigLoader(TrainConfig.DEFAULT).set("recompute", String.valueOf(recompute)).build();
    }

    /** The child's peak after GC and its baseline, or null when it ran out of heap. */
    private static String[] run(int heapMib, boolean recompute) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx" + heapMib + "m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                PeakHeap.class.getName(), "child", String.valueOf(recompute)));
        String options = System.getProperty("child.options", "");
        if (!options.isBlank()) {
            command.addAll(1, List.of(options.trim().split("\\s+")));
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        if (status == CHILD_FAILED) {
            return null;
        }
        for (String line : output.split("\n")) {
            if (line.startsWith("heap ")) {
                return line.substring(5).trim().split(" ");
            }
        }
        throw new IllegalStateException("child with -Xmx" + heapMib + "m exited with " + status + ":\n" + output);
    }

    private static int child(boolean recompute) throws Exception {
        AtomicLong peak = new AtomicLong();
        Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(pool -> pool.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
                .collect(Collectors.toSet());
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
                GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from(
                        (CompositeData) notification.getUserData());
                long used = info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                        .filter(pool -> heapPools.contains(pool.getKey())).mapToLong(pool -> pool.getValue().getUsed())
                        .sum();
                peak.accumulateAndGet(used, Math::max);
            }, n -> n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION), null);
        }
        TrainConfig config = config(recompute);
        try (Device device = Devices.open("jvm")) {
            System.gc();
            long baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            GptModel model = new GptModel(config.model(), device, config.seed());
            model.setRecompute(config.recompute());
            TokenDataset dataset = TrainingData.open(config);
            AdamWOptimizer optimizer = new AdamWOptimizer(device, model.parameters(), config);
            for (int step = 0; step < STEPS; step++) {
                Batch batch = dataset.nextTrainBatch(config.batchSize(), config.model().contextSize());
                Tape tape = Tape.training(device);
                Tensor loss = model.loss(tape, batch.inputs(), batch.targets(), batch.batchSize(),
                        config.model().contextSize());
                tape.backward(loss);
                GradientClipper.clip(device, model.parameters().values(), config.gradClip());
                optimizer.step(config.learningRate());
                optimizer.zeroGrad();
            }
            System.out.println("heap " + peak.get() + " " + baseline);
            return 0;
        } catch (OutOfMemoryError e) {
            return CHILD_FAILED;
        }
    }
}
