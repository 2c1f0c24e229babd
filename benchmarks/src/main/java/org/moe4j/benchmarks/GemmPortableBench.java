package org.moe4j.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.Gemm;
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
 * X·W at a small size ({@code n}³) on the JVM device, with the Vector-API override ({@code simd})
 * and with the portable tiled kernel run work-item by work-item ({@code portable}): what the
 * override buys. Secondary result {@code gflop}: GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xss8m", "-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"})
public class GemmPortableBench {

    @Param({"256"})
    public int n;

    @Param({"portable", "simd"})
    public String kernel;

    private float[] a;
    private float[] b;
    private float[] c;
    private JvmDevice device;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        a = uniform(random, n * n);
        b = uniform(random, n * n);
        c = new float[n * n];
        device = switch (kernel) {
            case "portable" -> BenchDevice.portable();
            case "simd" -> BenchDevice.withOverrides();
            default -> throw new IllegalArgumentException("kernel=" + kernel + ": expected portable or simd");
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }

    @Benchmark
    public void matmul(Flops counters, Blackhole blackhole) {
        device.launch(Gemm.grid(n, n), Gemm::matmul, c, a, b, n, n, n, 0f);
        blackhole.consume(c);
        counters.gflop += 2.0 * n * n * n / 1e9;
    }

    /** {@code size} values uniform in [-1, 1). */
    static float[] uniform(SplittableRandom random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
