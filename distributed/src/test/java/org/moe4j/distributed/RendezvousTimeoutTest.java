package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ranks that never start, as when a launcher other than moe4j's own loses one: every rank that
 * times out names the missing ranks, in its message and in {@link RendezvousException#missingRanks()},
 * whether rank 0's report reaches it or its own deadline passes first.
 */
class RendezvousTimeoutTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @BeforeAll
    static void loadTheHandshake() throws Exception {
        // so that joining, not class loading, is what the short timeouts below measure
        LoopbackCluster.start(2).close();
    }

    /**
     * Starts ranks of a world of worldSize at once, each with its rendezvous timeout, all expected
     * to fail; checks that each names missing and returns their messages.
     */
    private static List<String> joinAndFail(int worldSize, int port, ServerSocketChannel store, List<Integer> ranks,
            List<Duration> timeouts, List<Integer> missing) {
        Duration longest = timeouts.stream().max(Duration::compareTo).orElseThrow();
        var outcomes = LoopbackCluster.runRanks(ranks.size(), i -> ProcessGroup.join(
                LoopbackCluster.config(port, ranks.get(i), worldSize, Duration.ofSeconds(10)), timeouts.get(i),
                ranks.get(i) == 0 ? store : null), longest.multipliedBy(3));
        for (int i = 0; i < ranks.size(); i++) {
            int rank = ranks.get(i);
            var o = outcomes.get(i);
            RendezvousException e = assertInstanceOf(RendezvousException.class, o.error(),
                    "rank " + rank + " should fail the rendezvous, got " + o);
            assertEquals(missing, e.missingRanks(), "missing ranks reported by rank " + rank + ": " + e.getMessage());
            assertTrue(e.getMessage().startsWith("rank " + rank + ": "), e.getMessage());
        }
        return outcomes.stream().map(o -> o.error().getMessage()).toList();
    }

    @Test
    void everyRankThatTimesOutNamesTheRanksThatNeverStarted() throws Exception {
        // Ranks 2 and 4 of 5 never start. Rank 3 started long before rank 0 (a quarter of the
        // timeout is left to it), so its deadline passes first; rank 1 started after rank 0 and
        // hears rank 0's report well before its own deadline.
        Duration zero = TIMEOUT;
        try (ServerSocketChannel store = LoopbackCluster.storeListener()) {
            List<String> messages = joinAndFail(5, LoopbackCluster.port(store), store, List.of(0, 1, 3),
                    List.of(zero, zero.multipliedBy(2), zero.dividedBy(4)), List.of(2, 4));
            for (String m : messages) {
                assertTrue(m.contains("rank(s) [2, 4] never joined"), m);
            }
            assertTrue(messages.get(1).startsWith("rank 1: rank 0: rendezvous timed out after 2.0 s"),
                    "rank 1 should pass on rank 0's report: " + messages.get(1));
            assertTrue(messages.get(2).startsWith("rank 3: rendezvous timed out after 0.5 s: rank(s) [2, 4] never"
                    + " joined, as last reported by rank 0"), "rank 3 should time out on its own: " + messages.get(2));
        }
    }

    @Test
    void everyRankNamesRankZeroWhenTheStoreNeverStarts() {
        int port = LocalLaunch.freePort("127.0.0.1");
        Duration timeout = TIMEOUT.dividedBy(4);
        for (String m : joinAndFail(3, port, null, List.of(1, 2), List.of(timeout, timeout), List.of(0))) {
            assertTrue(m.contains("could not reach rank 0 (the rendezvous store) at /127.0.0.1:" + port), m);
        }
    }
}
