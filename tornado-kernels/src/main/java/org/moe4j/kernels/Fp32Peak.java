package org.moe4j.kernels;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The FP32 peak of the JVM device: what {@code threads} threads of independent vector FMAs reach on
 * this machine, measured, the reference of model FLOPs utilisation. Measuring takes a fraction of a second,
 * so the result is kept per machine ({@link CpuInfo#describe()}, threads and JDK) in a small file
 * under {@code $XDG_CACHE_HOME/moe4j} (or {@code ~/.cache/moe4j}); delete it to measure again.
 */
public final class Fp32Peak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Independent accumulators per thread: enough to cover the FMA latency of two pipes. */
    private static final int CHAINS = 12;
    /** FMA steps per thread and trial: some 10 ms at a few GHz. */
    private static final int STEPS = 5_000_000;
    private static final int TRIALS = 5;
    /** Short runs first, so that the trials time the JIT's code, not the interpreter's. */
    private static final int WARMUP_STEPS = 20_000;
    private static final int WARMUP_RUNS = 200;
    private static final String FILE = "fp32-peak.properties";
    /** Where the chains' sums go, so that the JIT keeps them. */
    private static volatile float sink;

    private Fp32Peak() {
    }

    /** FLOP/s of {@code threads} threads, from the cache when this machine has been measured. */
    public static double flopsPerSecond(int threads) {
        Path file = cacheDirectory().resolve(FILE);
        String key = (CpuInfo.current().describe() + ", " + threads + " threads, JDK " + Runtime.version())
                .replaceAll("[^A-Za-z0-9.,+-]", "_");
        Properties cached = new Properties();
        try {
            if (Files.exists(file)) {
                try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    cached.load(in);
                }
                String value = cached.getProperty(key);
                if (value != null) {
                    return Double.parseDouble(value);
                }
            }
        } catch (IOException | NumberFormatException unreadable) {
            cached.clear();
        }
        double measured = measure(threads);
        cached.setProperty(key, Double.toString(measured));
        try {
            Files.createDirectories(file.getParent());
            Path partial = Files.createTempFile(file.getParent(), FILE, ".partial");
            try (Writer out = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
                cached.store(out, "FP32 peak of the JVM device, FLOP/s");
            }
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException notWritable) {
            // A read-only home: measured again next time.
        }
        return measured;
    }

    /** The best of a few trials of {@code threads} threads running FMA chains at once, in FLOP/s. */
    public static double measure(int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "fp32-peak");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int i = 0; i < WARMUP_RUNS; i++) {
                sink += chains(WARMUP_STEPS);
            }
            double best = 0;
            for (int trial = 0; trial < TRIALS; trial++) {
                List<Callable<Float>> work = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    work.add(() -> chains(STEPS));
                }
                long start = System.nanoTime();
                for (Future<Float> f : pool.invokeAll(work)) {
                    sink += f.get();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, 2.0 * CHAINS * S.length() * (double) STEPS * threads / seconds);
            }
            return best;
        } catch (Exception e) {
            throw new IllegalStateException("measuring the FP32 peak failed", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static float chains(int steps) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector a = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector c10 = c0;
        FloatVector c11 = c0;
        for (int i = 0; i < steps; i++) {
            c0 = c0.fma(m, a);
            c1 = c1.fma(m, a);
            c2 = c2.fma(m, a);
            c3 = c3.fma(m, a);
            c4 = c4.fma(m, a);
            c5 = c5.fma(m, a);
            c6 = c6.fma(m, a);
            c7 = c7.fma(m, a);
            c8 = c8.fma(m, a);
            c9 = c9.fma(m, a);
            c10 = c10.fma(m, a);
            c11 = c11.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static Path cacheDirectory() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("moe4j");
    }
}
