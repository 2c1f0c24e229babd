package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real processes: three JVMs on loopback started like a launcher would, one killed in the second test. */
class MultiProcessTest {
    private static final int W = 3;
    private static final String JOB_ID = LocalLaunch.newJobId();
    private static final String SECRET = LocalLaunch.newJobSecret();
    private static final int COLLECTIVE_TIMEOUT_S = 8;
    private final List<ChildProcess> workers = new ArrayList<>();

    @AfterEach
    void killLeftovers() throws Exception {
        for (ChildProcess w : workers) {
            w.process.destroyForcibly();
            w.process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private ChildProcess start(int rank, int port, String mode) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx64m", "-cp",
                System.getProperty("java.class.path"), ProcessWorker.class.getName(), mode);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SLURM_") || k.startsWith("OMPI_") || k.startsWith("TORCHELASTIC_")
                || k.startsWith("MOE_"));
        env.putAll(LocalLaunch.rankEnvironment(rank, W, "127.0.0.1", port, JOB_ID, SECRET));
        env.put("MOE_COLLECTIVE_TIMEOUT_S", String.valueOf(COLLECTIVE_TIMEOUT_S));
        ChildProcess w = new ChildProcess(pb.start());
        workers.add(w);
        return w;
    }

    /** Starts rank 0 (which picks the port), then the others. */
    private void startAll(String mode) throws Exception {
        ChildProcess zero = start(0, 1, mode);
        int port = Integer.parseInt(zero.nextLine("PORT ", 20).substring(5));
        for (int rank = 1; rank < W; rank++) {
            start(rank, port, mode);
        }
    }

    @Test
    void threeProcessesAllReduceAndAllToAll() throws Exception {
        startAll("once");
        for (int r = 0; r < W; r++) {
            ChildProcess w = workers.get(r);
            String result = w.nextLine("RESULT", 30);
            // sum over ranks of (r + 1) = 6; rank r receives r + p floats of value p from every rank p
            StringBuilder data = new StringBuilder();
            for (int p = 0; p < W; p++) {
                for (int k = 0; k < r + p; k++) {
                    data.append(data.isEmpty() ? "" : ", ").append((float) p);
                }
            }
            assertEquals("RESULT rank=" + r + " sum=6.0,6.0 counts=[" + r + ", " + (r + 1) + ", " + (r + 2)
                    + "] data=[" + data + "]", result);
            assertEquals(0, w.exit(30), w.stderr());
        }
    }

    @Test
    void killedProcessMakesTheOthersExitNamingIt() throws Exception {
        startAll("loop");
        for (ChildProcess w : workers) {
            w.nextLine("ITER 3", 30);
        }
        ChildProcess victim = workers.get(2);
        long killed = System.nanoTime();
        victim.process.destroyForcibly();
        victim.process.waitFor(10, TimeUnit.SECONDS);
        // The survivors see the closed links at once ("rank 2 lost"; a timeout would say "sent nothing"),
        // so the time bound, twice the collective timeout, only says that no rank hangs.
        for (int r = 0; r < 2; r++) {
            ChildProcess w = workers.get(r);
            assertEquals(3, w.exit(3 * COLLECTIVE_TIMEOUT_S), "rank " + r + " stderr: " + w.stderr());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            assertTrue(millis <= 2000L * COLLECTIVE_TIMEOUT_S, "rank " + r + " exited " + millis + " ms after the kill,"
                    + " with a collective timeout of " + COLLECTIVE_TIMEOUT_S + " s");
            String err = w.stderr();
            assertTrue(err.startsWith("FAILED ") && err.contains("on rank " + r + ": rank 2 lost"), err);
        }
    }
}
