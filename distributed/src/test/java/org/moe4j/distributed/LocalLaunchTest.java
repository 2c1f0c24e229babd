package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LocalLaunchTest {

    @Test
    void rankEnvironmentReadsBackAsTheSameConfig() {
        String secret = LocalLaunch.newJobSecret();
        assertEquals(64, secret.length());
        assertNotEquals(secret, LocalLaunch.newJobSecret());
        Map<String, String> env = LocalLaunch.rankEnvironment(2, 4, "127.0.0.1", 29400, "job-x", secret);
        RendezvousConfig c = RendezvousConfig.fromEnvironment(env);
        assertEquals(LaunchConvention.ENVIRONMENT, c.convention());
        assertEquals(2, c.rank());
        assertEquals(4, c.worldSize());
        assertEquals(2, c.localRank());
        assertEquals(29400, c.masterPort());
        assertEquals("job-x", c.jobId());
        assertThrows(IllegalArgumentException.class, () -> LocalLaunch.rankEnvironment(4, 4, "h", 1, "j", "s"));
        int port = LocalLaunch.freePort("127.0.0.1");
        assertTrue(port > 0 && port <= 65535);
    }

    @Test
    void closeLeavesNoThreads() throws Exception {
        try (LoopbackCluster cluster = LoopbackCluster.start(3, Duration.ofSeconds(10))) {
            cluster.run(g -> g.allGather(g.rank()), Duration.ofSeconds(10)).forEach(LoopbackCluster.Outcome::get);
        }
        // close() joins its threads; the limit only bounds a failing run
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Set<String> alive;
        while (true) {
            alive = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter(name -> name.startsWith("moe4j-")).collect(java.util.stream.Collectors.toSet());
            if (alive.isEmpty() || System.nanoTime() >= deadline) {
                break;
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertTrue(alive.isEmpty(), "threads left after close: " + alive);
    }
}
