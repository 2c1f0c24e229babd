package org.moe4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.moe4j.moe.MoeConfig;
import org.moe4j.moe.ParameterCounts;
import org.moe4j.nn.ModelConfig;
import org.moe4j.nn.ParameterShapes;

/**
 * What a training run needs on each rank, from its config and layout alone (nothing is built):
 * parameters, FLOPs per token, bytes per rank by category, traffic per step, the largest tensor,
 * and the heap to give the JVM. {@code moe plan} prints it; {@link Trainer} refuses, before it
 * allocates anything, a run whose plan does not fit the JVM's heap or holds a tensor over Java's
 * array limit. Everything is float32, four bytes an element (the routing plan's ints too).
 *
 * <ul>
 *   <li>parameters: the dense ones on every rank, the experts' {@code 1/ep} of them;</li>
 *   <li>gradients: one of the parameter's size for every parameter;</li>
 *   <li>AdamW moments: two of the parameter's size, or with {@code shard_optimizer} (ZeRO-1) the
 *       rank's {@code 1/W} share of the dense ones and {@code 1/dp} of its experts';</li>
 *   <li>activations and all-to-all buffers: {@link ActivationMemory}, at the configured batch and
 *       recomputation, at their peak in the step;</li>
 *   <li>data: the training text's token ids (one int per byte).</li>
 * </ul>
 *
 * <p>Traffic per step and rank, as {@code all_to_all_bytes_per_step} and
 * {@code all_reduce_bytes_per_step} count it (bytes sent): per MoE layer the count table
 * ({@code 4·(1+J·E)} bytes to each other rank; expert choice gathers the gate scores,
 * {@code 4·n·E}), the statistics (40 bytes to each other rank), and four token exchanges (six with
 * recomputation, whose forward exchanges run again) of the {@code A·(ep−1)/ep} kept assignments that
 * live on other ranks, {@code D} elements each; the ring all-reduce sends {@code 2(W−1)/W} of the
 * dense gradients (and {@code 2(dp−1)/dp} of the experts' over their replicas).
 */
public final class ScalePlan {
    /** What a JVM needs besides the planned arrays: headroom for the collector and the engine's own objects. */
    static final double HEAP_HEADROOM = 1.25;
    static final long HEAP_BASE = 64L << 20;

    private final TrainConfig config;
    private final ParallelLayout layout;
    private final ParameterCounts counts;
    private final long denseElements;
    private final long expertElements;
    private final long largestParameter;
    private final String largestParameterName;
    private final ActivationMemory activations;
    private final double flopsPerToken;
    private final long dataBytes;
    private final int moeLayers;

    private ScalePlan(TrainConfig config, ParallelLayout layout) {
        this.config = config;
        this.layout = layout;
        ModelConfig model = config.model();
        Map<String, long[]> shapes = ParameterShapes.of(model);
        this.counts = ParameterCounts.of(ParameterShapes.sizes(shapes), model.moe());
        long largest = 0;
        String largestName = "";
        for (Map.Entry<String, long[]> entry : ParameterShapes.onRank(model, layout.ep()).entrySet()) {
            long elements = ParameterShapes.elements(entry.getValue());
            if (elements > largest) {
                largest = elements;
                largestName = entry.getKey() + " " + Arrays.toString(entry.getValue());
            }
        }
        this.largestParameter = largest;
        this.largestParameterName = largestName;
        this.expertElements = counts.experts();
        this.denseElements = counts.total() - counts.experts();
        this.moeLayers = counts.expertsByLayer().size();
        this.activations = new ActivationMemory(config, layout);
        this.flopsPerToken = ModelFlops.perTrainedTokenOfShapes(model, shapes);
        this.dataBytes = Integer.BYTES * dataTokens(config);
    }

    /**
     * The plan of {@code config} on {@code layout}.
     *
     * @throws IllegalArgumentException for a custom expert, whose shapes are not known before it is built
     */
    public static ScalePlan of(TrainConfig config, ParallelLayout layout) {
        return new ScalePlan(config, layout);
    }

    /**
     * The checks a run makes before it allocates anything: a layout and a batch that divide, every
     * tensor within Java's array limit, and the plan's bytes within {@code maxHeap} (the JVM's
     * {@code Runtime.maxMemory()}). Runs with a custom expert, whose shapes only it knows, are
     * checked for their layout alone.
     *
     * @throws IllegalArgumentException naming the numbers, the tensor or the bytes, and what to change
     */
    public static void checkBeforeTraining(TrainConfig config, int world, long maxHeap) {
        ParallelLayout layout = ParallelLayout.of(config, world);
        if (!ParameterShapes.known(config.model())) {
            return;
        }
        ScalePlan plan = of(config, layout);
        plan.checkArrayLimit();
        plan.checkHeap(maxHeap);
    }

    /** Refuses a plan with a parameter or an activation over Java's array limit. */
    public void checkArrayLimit() {
        ParameterShapes.checkArrayLimit(config.model(), layout.ep());
        if (activations.largestTensor() > ParameterShapes.ARRAY_LIMIT) {
            throw new IllegalArgumentException("the activation " + activations.largestTensorName() + " of a training"
                    + " step would hold " + count(activations.largestTensor()) + " elements, over Java's array limit of"
                    + " 2^31-1 = " + count(ParameterShapes.ARRAY_LIMIT) + ": every tensor is one float array; give each"
                    + " rank fewer sequences (a smaller batch_size, or more ranks)"
                    + (activations.largestTensorName().startsWith("attention") ? " or a shorter model.context_size" : ""));
        }
    }

    /** Refuses a plan whose bytes exceed {@code maxHeap}, with the heap to pass instead. */
    public void checkHeap(long maxHeap) {
        if (totalBytes() > maxHeap) {
            throw new IllegalArgumentException("this run needs about " + bytes(totalBytes()) + " per rank ("
                    + "parameters " + bytes(parameterBytes()) + ", gradients " + bytes(gradientBytes())
                    + ", AdamW moments " + bytes(momentBytes()) + ", activations " + bytes(activationBytes())
                    + ", all-to-all buffers " + bytes(allToAllBufferBytes()) + ", data " + bytes(dataBytes)
                    + ") but this JVM's heap is at most " + bytes(maxHeap) + ": pass MOE_JAVA_OPTS=" + xmx()
                    + (config.recompute() ? "" : ", or set recompute=true") + " (moe plan shows the whole plan)");
        }
    }

    public TrainConfig config() {
        return config;
    }

    public ParallelLayout layout() {
        return layout;
    }

    /** Total and active parameters (all ranks together). */
    public ParameterCounts parameters() {
        return counts;
    }

    /** Model FLOPs per trained token, forward and backward ({@link ModelFlops}: {@code 6N + 12LTD}). */
    public double flopsPerToken() {
        return flopsPerToken;
    }

    /** Parameter bytes on one rank: the dense parameters and this rank's experts. */
    public long parameterBytes() {
        return Float.BYTES * (denseElements + expertElements / layout.ep());
    }

    public long gradientBytes() {
        return parameterBytes();
    }

    /** Both AdamW moments on one rank, sharded over the replicas with {@code shard_optimizer}. */
    public long momentBytes() {
        long dense = layout.shardOptimizer() ? ceilDiv(denseElements, layout.world()) : denseElements;
        long local = expertElements / layout.ep();
        long experts = layout.shardOptimizer() ? ceilDiv(local, layout.dp()) : local;
        return 2L * Float.BYTES * (dense + experts);
    }

    /** Activation bytes (not the exchange's) at the step's peak: kept tensors and their gradients. */
    public long activationBytes() {
        return activations.peakActivationBytes();
    }

    /** Activation bytes (not the exchange's) kept for the backward pass at the end of the forward. */
    public long keptActivationBytes() {
        return activations.keptActivationBytes();
    }

    /** The token exchange's tensors (dispatch, experts' buffer, returned rows) with their gradients and staging at the peak. */
    public long allToAllBufferBytes() {
        return activations.peakExchangeBytes() + activations.stagingBytes();
    }

    /** The exchange's tensors kept for the backward pass at the end of the forward. */
    public long keptAllToAllBufferBytes() {
        return activations.keptExchangeBytes();
    }

    /** The step's peak of the arrays a device allocates: parameters, gradients, moments, activations, exchange tensors. */
    public long devicePeakBytes() {
        return parameterBytes() + gradientBytes() + momentBytes() + activationBytes() + activations.peakExchangeBytes();
    }

    /** Everything per rank: the device peak, the exchange's host staging and the data. */
    public long totalBytes() {
        return devicePeakBytes() + activations.stagingBytes() + dataBytes;
    }

    /** The token ids of the training text. */
    public long dataBytes() {
        return dataBytes;
    }

    /** The {@code -Xmx} to run with: the total and room for the collector, in whole MiB. */
    public long heapBytes() {
        long heap = (long) Math.ceil(totalBytes() * HEAP_HEADROOM) + HEAP_BASE;
        return ceilDiv(heap, 1L << 20) << 20;
    }

    /** {@link #heapBytes()} as a JVM option: {@code -Xmx3g} or {@code -Xmx700m}. */
    public String xmx() {
        long mib = heapBytes() >> 20;
        return mib % 1024 == 0 ? "-Xmx" + mib / 1024 + "g" : "-Xmx" + mib + "m";
    }

    /** Token exchanges per MoE layer and step: two in the forward, two in the backward, two more when recomputed. */
    public int tokenExchanges() {
        return config.recompute() ? 6 : 4;
    }

    /** Rows of this rank's kept assignments that go to other ranks, per MoE layer and exchange. */
    public long remoteRows() {
        return activations.keptAssignments() * (layout.ep() - 1) / layout.ep();
    }

    /** Bytes this rank sends in MoE all-to-alls per step (counts, statistics, tokens), as the run logs it. */
    public long allToAllBytesPerStep() {
        if (layout.world() == 1 || moeLayers == 0) {
            return 0;
        }
        MoeConfig moe = config.model().moe();
        long others = layout.world() - 1;
        boolean expertChoice = moe.router().equals("expert_choice");
        long counts = expertChoice ? Float.BYTES * activations.tokens() * moe.experts()
                : Integer.BYTES * (1 + activations.perToken() * moe.experts());
        long stats = 10 * Integer.BYTES;
        long tokens = tokenExchanges() * remoteRows() * config.model().width() * layout.commBytes();
        return moeLayers * ((counts + stats) * others + tokens);
    }

    /** Bytes this rank sends in gradient all-reduces per step (ring: {@code 2(W−1)/W} of the array). */
    public long allReduceBytesPerStep() {
        if (layout.world() == 1) {
            return 0;
        }
        long dense = 2 * (layout.world() - 1) * denseElements / layout.world();
        long experts = 2 * (layout.dp() - 1) * (expertElements / layout.ep()) / layout.dp();
        return Float.BYTES * (dense + experts);
    }

    /** The plan as {@code moe plan} prints it; {@code deviceMemory} (bytes, or null) is what each rank has. */
    public String table(Long deviceMemory) {
        ModelConfig model = config.model();
        MoeConfig moe = model.moe();
        StringBuilder out = new StringBuilder();
        long perRank = config.batchSize() / layout.world();
        line(out, "plan: %s, batch %d (%d sequences of %d per rank), recompute %s, token all-to-all %s, optimizer %s",
                layout, config.batchSize(), perRank, model.contextSize(), config.recompute() ? "on" : "off",
                layout.parallel().commDtype(), layout.shardOptimizer() ? "sharded (ZeRO-1)" : "not sharded");
        line(out, "parameters     %s total, %s active per token, %s in routed experts%s", count(counts.total()),
                count(counts.active()), count(counts.experts()), moe == null ? "" : String.format(Locale.ROOT,
                        " (%d layers of %d experts, %d per rank)", moeLayers, moe.experts(), moe.experts() / layout.ep()));
        // Recomputation runs every block's forward once more: 2 FLOPs per active block parameter, and attention's 4LTD.
        long outsideBlocks = ((long) 2 * model.vocabSize() + model.contextSize() + 1) * model.width() + model.vocabSize();
        double recomputed = 2.0 * (counts.active() - outsideBlocks)
                + 4.0 * model.layers() * model.contextSize() * model.width();
        line(out, "FLOPs          %s per token (forward+backward, 6N + 12LTD), %s per step per rank%s",
                flops(flopsPerToken), flops(flopsPerToken * perRank * model.contextSize()),
                config.recompute() ? String.format(Locale.ROOT, "; recomputation adds about %s per token",
                        flops(recomputed)) : "");
        line(out, "bytes per rank");
        category(out, "parameters", parameterBytes(), moe == null || layout.ep() == 1 ? "" : String.format(Locale.ROOT,
                "dense %s, experts %s (1/%d)", bytes(Float.BYTES * denseElements),
                bytes(Float.BYTES * expertElements / layout.ep()), layout.ep()));
        category(out, "gradients", gradientBytes(), "");
        category(out, "AdamW moments", momentBytes(), layout.shardOptimizer()
                ? String.format(Locale.ROOT, "dense 1/%d, experts 1/%d", layout.world(), layout.dp()) : "2 per parameter");
        category(out, "activations", activationBytes(), "peak in the backward pass; " + bytes(keptActivationBytes())
                + " kept after the forward" + (config.recompute() ? " (block inputs)" : ""));
        if (moe != null) {
            category(out, "all-to-all buffers", allToAllBufferBytes(), String.format(Locale.ROOT,
                    "capacity %d per expert at capacity factor %s, %s kept after the forward", activations.capacity(),
                    moe.capacityFactor(), bytes(keptAllToAllBufferBytes())));
        }
        category(out, "data", dataBytes, "token ids of the training text");
        category(out, "total", totalBytes(), "");
        line(out, "traffic per step per rank");
        category(out, "all-to-all", allToAllBytesPerStep(), moe == null || layout.world() == 1 ? ""
                : String.format(Locale.ROOT, "%d token exchanges x %d layers x %s rows x %d x %d B, and counts",
                        tokenExchanges(), moeLayers, count(remoteRows()), model.width(), layout.commBytes()));
        category(out, "all-reduce", allReduceBytesPerStep(), layout.world() == 1 ? ""
                : "ring, 2(W-1)/W of the dense gradients" + (layout.dp() > 1 && moe != null
                        ? " and 2(dp-1)/dp of the experts'" : ""));
        long largest = Math.max(largestParameter, activations.largestTensor());
        String largestName = largestParameter >= activations.largestTensor() ? largestParameterName
                : activations.largestTensorName();
        line(out, "largest tensor %s: %s elements (Java's array limit: %s)%s", largestName, count(largest),
                count(ParameterShapes.ARRAY_LIMIT), largest > ParameterShapes.ARRAY_LIMIT ? " TOO LARGE" : "");
        if (deviceMemory != null) {
            boolean fits = totalBytes() <= deviceMemory;
            line(out, "fits in %s: %s (%.1f%%)", bytes(deviceMemory), fits ? "yes" : "no",
                    100.0 * totalBytes() / deviceMemory);
        }
        line(out, "heap to pass   MOE_JAVA_OPTS=%s", xmx());
        return out.toString();
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }

    private static void category(StringBuilder out, String name, long value, String detail) {
        line(out, "  %-20s %11s%s", name, bytes(value), detail.isEmpty() ? "" : "   " + detail);
    }

    /** Binary units: {@code 12.3 MiB}. */
    static String bytes(long value) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = value;
        int unit = 0;
        while (v >= 1024 && unit < units.length - 1) {
            v /= 1024;
            unit++;
        }
        return unit == 0 ? value + " B" : String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s",
                v, units[unit]);
    }

    private static String count(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }

    private static String flops(double value) {
        String[] units = {"", "k", "M", "G", "T", "P", "E"};
        int unit = 0;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.3g %sFLOP", value, units[unit]);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Tokens of the training text: the built-in corpus's size, or the data file's (a token per byte). */
    private static long dataTokens(TrainConfig config) {
        if (config.data() == null) {
            return config.corpusBytes();
        }
        try {
            return Files.size(Path.of(config.data()));
        } catch (IOException e) {
            return 0;
        }
    }
}
