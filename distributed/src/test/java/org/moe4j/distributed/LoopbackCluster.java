package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** W ranks as threads of this JVM on 127.0.0.1, the store on an ephemeral port. */
final class LoopbackCluster implements AutoCloseable {
    static final byte[] SECRET = "loopback-test-secret".getBytes(StandardCharsets.UTF_8);
    static final String JOB = "test-job";

    final List<ProcessGroup> groups;

    private LoopbackCluster(List<ProcessGroup> groups) {
        this.groups = groups;
    }

    /** What one rank's body returned or threw. */
    record Outcome<T>(T value, Throwable error, long millis) {
        T get() {
            if (error != null) {
                throw new AssertionError("rank failed: " + error, error);
            }
            return value;
        }
    }

    /** A listener for rank 0's store on 127.0.0.1, ephemeral port. */
    static ServerSocketChannel storeListener() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        return server;
    }

    static int port(ServerSocketChannel server) throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    static RendezvousConfig config(int port, int rank, int worldSize, Duration collectiveTimeout) {
        return RendezvousConfig.of("127.0.0.1", port, rank, worldSize, JOB, SECRET)
                .withCollectiveTimeout(collectiveTimeout);
    }

    static LoopbackCluster start(int worldSize) throws Exception {
        return start(worldSize, Duration.ofSeconds(20));
    }

    static LoopbackCluster start(int worldSize, Duration collectiveTimeout) throws Exception {
        ServerSocketChannel server = storeListener();
        int port = port(server);
        List<ProcessGroup> groups = runRanks(worldSize, rank -> ProcessGroup.join(
                config(port, rank, worldSize, collectiveTimeout), Duration.ofSeconds(15), rank == 0 ? server : null),
                Duration.ofSeconds(20)).stream().map(Outcome::get).toList();
        return new LoopbackCluster(groups);
    }

    /** Runs body on every group at once; fails the test if any rank has not returned within limit. */
    <T> List<Outcome<T>> run(Function<ProcessGroup, T> body, Duration limit) {
        return runRanks(groups.size(), rank -> body.apply(groups.get(rank)), limit);
    }

    /** Runs body(rank) for ranks 0..n-1 in threads of their own. */
    static <T> List<Outcome<T>> runRanks(int n, Function<Integer, T> body, Duration limit) {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Outcome<T>>> futures = new ArrayList<>();
            for (int rank = 0; rank < n; rank++) {
                int r = rank;
                futures.add(pool.submit(() -> {
                    long start = System.nanoTime();
                    try {
                        T value = body.apply(r);
                        return new Outcome<>(value, null, (System.nanoTime() - start) / 1_000_000);
                    } catch (Throwable t) {
                        return new Outcome<T>(null, t, (System.nanoTime() - start) / 1_000_000);
                    }
                }));
            }
            List<Outcome<T>> outcomes = new ArrayList<>();
            long deadline = System.nanoTime() + limit.toNanos();
            for (int rank = 0; rank < n; rank++) {
                try {
                    outcomes.add(futures.get(rank).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (java.util.concurrent.TimeoutException e) {
                    fail("rank " + rank + " hung: no result within " + limit);
                }
            }
            return outcomes;
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits for latch; false if it did not reach zero within limit (or the wait was interrupted). */
    static boolean await(CountDownLatch latch, Duration limit) {
        try {
            return latch.await(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        groups.forEach(ProcessGroup::close);
    }
}
