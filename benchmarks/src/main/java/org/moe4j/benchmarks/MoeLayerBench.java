package org.moe4j.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.moe4j.kernels.Device;
import org.moe4j.moe.MoeConfig;
import org.moe4j.moe.MoeLayer;
import org.moe4j.nn.LayerContext;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Forward and backward of one MoE layer ({@code docs/moe.md}) on a training tape: T = 4096 tokens,
 * D = 512, GELU experts of F = 2048, capacity factor 1.25, aux and z losses on (0.01, 0.001), as
 * {@code benchmarks/reference/moe_bench.py} runs the same layer in PyTorch. Weights drawn with std
 * 0.02, biases too (not zero as at initialisation), input and output gradient N(0,1). One
 * invocation: zero the gradients, forward, backward from the fixed output gradient.
 *
 * <p>{@code router}: {@code e8-top1} (Switch), {@code e8-top2} (GShard top-2), {@code e16-2top1}
 * (2 top-1 expert prototyping, 16 experts), {@code e64-top1}. {@code device}: a {@code --device}
 * name ({@code -p device=cuda} on a GPU); an invocation ends when the device has finished. Secondary
 * result {@code tokens}: tokens/s (forward+backward).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xss8m", "-Xms6g", "-Xmx6g", "-XX:+UseParallelGC", "-XX:+UseTransparentHugePages"})
public class MoeLayerBench {
    static final int TOKENS = 4096;
    static final int WIDTH = 512;
    static final int HIDDEN = 2048;
    static final double CAPACITY_FACTOR = 1.25;

    @Param({"e8-top1", "e8-top2", "e16-2top1", "e64-top1"})
    public String router;

    @Param({"jvm"})
    public String device;

    private Device on;
    private MoeLayer layer;
    private Tensor x;
    private float[] outputGrad;
    private List<Tensor> parameters;

    @Setup(Level.Trial)
    public void setUp() {
        on = BenchDevice.open(device);
        layer = new MoeLayer(config(router), WIDTH, new LayerContext(on, new SplitMix64(1)));
        SplittableRandom random = new SplittableRandom(7);
        x = Tensor.of(on, true, gaussian(random, TOKENS * WIDTH), TOKENS, WIDTH);
        outputGrad = gaussian(random, TOKENS * WIDTH);
        Map<String, Tensor> named = new LinkedHashMap<>();
        layer.collectParameters("", named);
        parameters = new ArrayList<>(named.values());
        // Biases as after some training (they start at zero): a padded slot's hidden row is then
        // gelu(b1) != 0 and costs as much in the down projection as a token does.
        for (String bias : List.of("experts.up.bias", "experts.down.bias")) {
            float[] values = named.get(bias).data();
            float[] drawn = gaussian(random, values.length);
            for (int i = 0; i < values.length; i++) {
                values[i] = 0.02f * drawn[i];
            }
            on.copyToDevice(values);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        on.close();
    }

    /** The layer config a {@code router} parameter names. */
    static MoeConfig config(String router) {
        return switch (router) {
            case "e8-top1" -> moe("topk", 8, 1);
            case "e8-top2" -> moe("topk", 8, 2);
            case "e16-2top1" -> moe("prototype", 16, 2);
            case "e64-top1" -> moe("topk", 64, 1);
            default -> throw new IllegalArgumentException("router=" + router
                    + ": expected e8-top1, e8-top2, e16-2top1 or e64-top1");
        };
    }

    private static MoeConfig moe(String router, int experts, int k) {
        return new MoeConfig(router, experts, k, CAPACITY_FACTOR, 2.0, false, 0.01, 0.001, 0.0, "gelu", HIDDEN, 1);
    }

    @Benchmark
    public void forwardBackward(Tokens counters, Blackhole blackhole) {
        x.zeroGrad();
        for (Tensor p : parameters) {
            p.zeroGrad();
        }
        Tape tape = Tape.training(on);
        Tensor y = layer.forward(tape, x);
        tape.backward(y, outputGrad);
        on.finish();
        blackhole.consume(y.data());
        blackhole.consume(x.grad());
        counters.tokens += TOKENS;
    }

    static float[] gaussian(SplittableRandom random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            // Box-Muller; seeded, so the same inputs every trial.
            double u = 1.0 - random.nextDouble();
            values[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return values;
    }
}
