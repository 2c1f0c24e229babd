package org.moe4j.benchmarks;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.moe4j.distributed.LocalLaunch;
import org.moe4j.distributed.ProcessGroup;
import org.moe4j.distributed.RendezvousConfig;
import org.openjdk.jmh.annotations.AuxCounters;
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

/**
 * Collectives of {@code distributed} on loopback next to raw TCP on loopback, measured the same way:
 * W ranks are threads of this JVM, each with its own {@link ProcessGroup} (its own sockets); one
 * invocation runs the operation on every rank at once and waits for all.
 *
 * <p>Every rank holds {@code MiB} MiB of floats. {@code allToAll}: each rank sends 1/W of it to
 * every rank; {@code allReduce}: the ring all-reduce of all of it. The raw baselines move the same
 * buffer over one loopback connection of direct-buffer socket channels: {@code tcpOneWay} one
 * direction, {@code tcpBothWays} both directions at once.
 *
 * <p>Primary score: operations per second. Secondary result {@code wireGB}: GB (1e9 bytes) per second that crossed sockets, summed over
 * all ranks and directions: (W−1)/W·size per rank for all-to-all, 2(W−1)/W·size per rank for the
 * ring all-reduce, size for one way, 2·size for both ways.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class CollectivesBench {

    /** Bytes across sockets per second, as a JMH rate (per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Wire {
        public double wireGB;
    }

    /** W ranks as threads, each with its own process group on 127.0.0.1. */
    @State(Scope.Benchmark)
    public static class Group {
        @Param({"2", "4"})
        public int ranks;

        @Param({"16"})
        public int mib;

        ExecutorService pool;
        List<ProcessGroup> groups;
        float[][] data;
        int[] counts;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            pool = Executors.newFixedThreadPool(ranks);
            int port = LocalLaunch.freePort("127.0.0.1");
            byte[] secret = "collectives-bench".getBytes(StandardCharsets.UTF_8);
            List<Callable<ProcessGroup>> joins = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                RendezvousConfig config = RendezvousConfig.of("127.0.0.1", port, r, ranks, "bench", secret)
                        .withCollectiveTimeout(Duration.ofSeconds(60));
                joins.add(() -> ProcessGroup.join(config, Duration.ofSeconds(30)));
            }
            groups = new ArrayList<>();
            for (Future<ProcessGroup> f : pool.invokeAll(joins)) {
                groups.add(f.get());
            }
            int n = mib * (1 << 20) / Float.BYTES / ranks * ranks;
            data = new float[ranks][n];
            for (float[] d : data) {
                Arrays.fill(d, 1f);
            }
            counts = new int[ranks];
            Arrays.fill(counts, n / ranks);
        }

        long bytes() {
            return (long) data[0].length * Float.BYTES;
        }

        void onEveryRank(RankBody body) throws Exception {
            List<Future<?>> done = new ArrayList<>();
            for (int r = 1; r < ranks; r++) {
                int rank = r;
                done.add(pool.submit(() -> {
                    body.run(rank);
                    return null;
                }));
            }
            body.run(0);
            for (Future<?> f : done) {
                f.get();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            if (groups != null) {
                List<Callable<Void>> closes = new ArrayList<>();
                for (ProcessGroup g : groups) {
                    closes.add(() -> {
                        g.close();
                        return null;
                    });
                }
                pool.invokeAll(closes);
            }
            pool.shutdownNow();
        }
    }

    interface RankBody {
        void run(int rank) throws Exception;
    }

    /** One loopback connection of socket channels, blocking, with direct buffers. */
    @State(Scope.Benchmark)
    public static class Tcp {
        @Param({"16"})
        public int mib;

        ExecutorService pool;
        SocketChannel a;
        SocketChannel b;
        ByteBuffer[] send = new ByteBuffer[2];
        ByteBuffer[] recv = new ByteBuffer[2];

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            pool = Executors.newFixedThreadPool(3);
            try (ServerSocketChannel server = ServerSocketChannel.open()) {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                a = SocketChannel.open(server.getLocalAddress());
                b = server.accept();
            }
            for (SocketChannel c : new SocketChannel[] {a, b}) {
                c.socket().setTcpNoDelay(true);
            }
            int bytes = mib << 20;
            for (int i = 0; i < 2; i++) {
                send[i] = ByteBuffer.allocateDirect(bytes);
                recv[i] = ByteBuffer.allocateDirect(bytes);
            }
        }

        long bytes() {
            return (long) mib << 20;
        }

        static void write(SocketChannel c, ByteBuffer buf) throws IOException {
            buf.clear();
            while (buf.hasRemaining()) {
                c.write(buf);
            }
        }

        static void read(SocketChannel c, ByteBuffer buf) throws IOException {
            buf.clear();
            while (buf.hasRemaining()) {
                if (c.read(buf) < 0) {
                    throw new IOException("closed");
                }
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            a.close();
            b.close();
            pool.shutdownNow();
        }
    }

    @Benchmark
    public void allToAll(Group g, Wire wire) throws Exception {
        g.onEveryRank(r -> g.groups.get(r).allToAll(g.data[r], g.counts));
        wire.wireGB += g.bytes() * (double) (g.ranks - 1) / 1e9;
    }

    @Benchmark
    public void allReduce(Group g, Wire wire) throws Exception {
        g.onEveryRank(r -> g.groups.get(r).allReduceSum(g.data[r]));
        wire.wireGB += 2.0 * g.bytes() * (g.ranks - 1) / 1e9;
    }

    @Benchmark
    public void tcpOneWay(Tcp t, Wire wire) throws Exception {
        Future<?> sent = t.pool.submit(() -> {
            Tcp.write(t.a, t.send[0]);
            return null;
        });
        Tcp.read(t.b, t.recv[0]);
        sent.get();
        wire.wireGB += t.bytes() / 1e9;
    }

    @Benchmark
    public void tcpBothWays(Tcp t, Wire wire) throws Exception {
        Future<?> sentA = t.pool.submit(() -> {
            Tcp.write(t.a, t.send[0]);
            return null;
        });
        Future<?> sentB = t.pool.submit(() -> {
            Tcp.write(t.b, t.send[1]);
            return null;
        });
        Future<?> readA = t.pool.submit(() -> {
            Tcp.read(t.a, t.recv[1]);
            return null;
        });
        Tcp.read(t.b, t.recv[0]);
        sentA.get();
        sentB.get();
        readA.get();
        wire.wireGB += 2.0 * t.bytes() / 1e9;
    }
}
