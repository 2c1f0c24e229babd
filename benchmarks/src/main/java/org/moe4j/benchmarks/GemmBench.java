package org.moe4j.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.ejml.concurrency.EjmlConcurrency;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_MT_FDRM;
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
 * SGEMM for the three products of a linear layer's training step, {@code C (m,n)}:
 * {@code xw} = X·W (forward, A (m,k), B (k,n)), {@code dyWt} = dY·Wᵀ (input gradient, B (n,k)),
 * {@code xtDy} = Xᵀ·dY (weight gradient, A (k,m)).
 *
 * <p>{@code ffn} shapes are the expert FFN's at tokens 4096, d_model 512, d_ff 2048 (the up
 * projection: X·W is 4096x512·512x2048, dY·Wᵀ is 4096x2048·(512x2048)ᵀ, Xᵀ·dY is
 * (4096x512)ᵀ·4096x2048); {@code cube} is 1024³ for all three. {@code impl}: {@code moe4j} is the
 * JVM device with its Vector-API overrides ({@code GemmSimd}), as training runs it; {@code ejml}
 * is EJML's multi-threaded row-major SGEMM on the same number of threads. The portable tiled
 * kernel is in {@link GemmPortableBench} at a small size (it is far slower).
 *
 * <p>Secondary result {@code gflop}: GFLOP/s, {@code 2·m·n·k} per product.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xss8m", "-Xms2g", "-Xmx2g", "-XX:+UseParallelGC", "-XX:+UseTransparentHugePages"})
public class GemmBench {

    @Param({"xw", "dyWt", "xtDy"})
    public String op;

    @Param({"ffn", "cube"})
    public String size;

    @Param({"moe4j", "ejml"})
    public String impl;

    private int m;
    private int n;
    private int k;
    private float[] a;
    private float[] b;
    private float[] c;
    private JvmDevice device;
    private FMatrixRMaj ma;
    private FMatrixRMaj mb;
    private FMatrixRMaj mc;

    @Setup(Level.Trial)
    public void setUp() {
        int[] mnk = shape(op, size);
        m = mnk[0];
        n = mnk[1];
        k = mnk[2];
        SplittableRandom random = new SplittableRandom(42);
        a = GemmPortableBench.uniform(random, m * k);
        b = GemmPortableBench.uniform(random, k * n);
        c = new float[m * n];
        int threads = Runtime.getRuntime().availableProcessors();
        if (impl.equals("moe4j")) {
            device = BenchDevice.withOverrides();
        } else if (impl.equals("ejml")) {
            EjmlConcurrency.setMaxThreads(threads);
            // A as stored: (m,k), or (k,m) for Xᵀ·dY; B (k,n), or (n,k) for dY·Wᵀ.
            ma = op.equals("xtDy") ? new FMatrixRMaj(k, m, true, a) : new FMatrixRMaj(m, k, true, a);
            mb = op.equals("dyWt") ? new FMatrixRMaj(n, k, true, b) : new FMatrixRMaj(k, n, true, b);
            mc = new FMatrixRMaj(m, n);
        } else {
            throw new IllegalArgumentException("impl=" + impl + ": expected moe4j or ejml");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (device != null) {
            device.close();
        }
    }

    /** {m, n, k} of op at size. */
    static int[] shape(String op, String size) {
        if (size.equals("cube")) {
            return new int[] {1024, 1024, 1024};
        }
        if (!size.equals("ffn")) {
            throw new IllegalArgumentException("size=" + size + ": expected ffn or cube");
        }
        int tokens = 4096;
        int model = 512;
        int hidden = 2048;
        return switch (op) {
            case "xw" -> new int[] {tokens, hidden, model};
            case "dyWt" -> new int[] {tokens, model, hidden};
            case "xtDy" -> new int[] {model, hidden, tokens};
            default -> throw new IllegalArgumentException("op=" + op + ": expected xw, dyWt or xtDy");
        };
    }

    @Benchmark
    public void gemm(Flops counters, Blackhole blackhole) {
        if (device != null) {
            switch (op) {
                case "xw" -> device.launch(Gemm.grid(m, n), Gemm::matmul, c, a, b, m, n, k, 0f);
                case "dyWt" -> device.launch(Gemm.grid(m, n), Gemm::matmulTransB, c, a, b, m, n, k, 0f);
                default -> device.launch(Gemm.grid(m, n), Gemm::matmulTransA, c, a, b, m, n, k, 0f);
            }
            blackhole.consume(c);
        } else {
            switch (op) {
                case "xw" -> CommonOps_MT_FDRM.mult(ma, mb, mc);
                case "dyWt" -> CommonOps_MT_FDRM.multTransB(ma, mb, mc);
                default -> CommonOps_MT_FDRM.multTransA(ma, mb, mc);
            }
            blackhole.consume(mc);
        }
        counters.gflop += 2.0 * m * n * k / 1e9;
    }
}
