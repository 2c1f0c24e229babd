package org.moe4j.parallel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.moe4j.distributed.LocalLaunch;
import org.moe4j.distributed.ProcessGroup;
import org.moe4j.distributed.RendezvousConfig;

/** W ranks as threads of the test JVM, each with its own process group on 127.0.0.1. */
public final class LoopbackRanks {
    private LoopbackRanks() {
    }

    /**
     * Joins W groups and runs {@code body} on each in a thread of its own; rethrows the first
     * failure, and fails if any rank is still running after {@code limit}.
     */
    public static <T> List<T> run(int worldSize, Duration limit, Function<ProcessGroup, T> body) throws Exception {
        int port = LocalLaunch.freePort("127.0.0.1");
        byte[] secret = LocalLaunch.newJobSecret().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String job = LocalLaunch.newJobId();
        ExecutorService pool = Executors.newFixedThreadPool(worldSize);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int rank = 0; rank < worldSize; rank++) {
                RendezvousConfig config = RendezvousConfig.of("127.0.0.1", port, rank, worldSize, job, secret)
                        .withCollectiveTimeout(Duration.ofSeconds(20));
                futures.add(pool.submit(() -> {
                    try (ProcessGroup group = ProcessGroup.join(config, Duration.ofSeconds(20))) {
                        return body.apply(group);
                    }
                }));
            }
            List<T> results = new ArrayList<>();
            long deadline = System.nanoTime() + limit.toNanos();
            for (Future<T> future : futures) {
                results.add(future.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
