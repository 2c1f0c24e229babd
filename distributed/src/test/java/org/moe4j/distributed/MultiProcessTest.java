package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real processes: three JVMs on loopback started like a launcher would, one killed in the second test. */
class MultiProcessTest {
    private static final int W = 3;
    private static final String JOB_ID = LocalLaunch.newJobId();
    private static final String SECRET = LocalLaunch.newJobSecret();
    private final List<Worker> workers = new ArrayList<>();

    /** A child JVM and everything it printed. */
    private static final class Worker {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final StringBuilder stderr = new StringBuilder();
        final Thread[] readers;

        Worker(Process process) {
            this.process = process;
            readers = new Thread[] {
                Thread.ofPlatform().daemon().start(() -> drain(process.getInputStream(), lines, null)),
                Thread.ofPlatform().daemon().start(() -> drain(process.getErrorStream(), null, stderr))};
        }

        private static void drain(InputStream in, BlockingQueue<String> lines, StringBuilder text) {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null;) {
                    if (lines != null) {
                        lines.add(line);
                    } else {
                        synchronized (text) {
                            text.append(line).append('\n');
                        }
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }

        String nextLine(String prefix, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith(prefix)) {
                    return line;
                }
            }
            fail("no line starting with '" + prefix + "' within " + seconds + " s; stderr: " + stderr());
            return null;
        }

        String stderr() {
            synchronized (stderr) {
                return stderr.toString();
            }
        }

        int exit(long seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                fail("process hung; stderr: " + stderr());
            }
            for (Thread t : readers) {
                t.join(2000);
            }
            return process.exitValue();
        }
    }

    @AfterEach
    void killLeftovers() throws Exception {
        for (Worker w : workers) {
            w.process.destroyForcibly();
            w.process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private Worker start(int rank, int port, String mode) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx64m", "-cp",
                System.getProperty("java.class.path"), ProcessWorker.class.getName(), mode);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SLURM_") || k.startsWith("OMPI_") || k.startsWith("TORCHELASTIC_")
                || k.startsWith("MOE_"));
        env.putAll(LocalLaunch.rankEnvironment(rank, W, "127.0.0.1", port, JOB_ID, SECRET));
        env.put("MOE_COLLECTIVE_TIMEOUT_S", "8");
        Worker w = new Worker(pb.start());
        workers.add(w);
        return w;
    }

    /** Starts rank 0 (which picks the port), then the others. */
    private void startAll(String mode) throws Exception {
        Worker zero = start(0, 1, mode);
        int port = Integer.parseInt(zero.nextLine("PORT ", 20).substring(5));
        for (int rank = 1; rank < W; rank++) {
            start(rank, port, mode);
        }
    }

    @Test
    void threeProcessesAllReduceAndAllToAll() throws Exception {
        startAll("once");
        for (int r = 0; r < W; r++) {
            Worker w = workers.get(r);
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
        for (Worker w : workers) {
            w.nextLine("ITER 3", 30);
        }
        Worker victim = workers.get(2);
        long killed = System.nanoTime();
        victim.process.destroyForcibly();
        victim.process.waitFor(10, TimeUnit.SECONDS);
        for (int r = 0; r < 2; r++) {
            Worker w = workers.get(r);
            assertEquals(3, w.exit(20), "rank " + r + " stderr: " + w.stderr());
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed);
            assertTrue(seconds <= 8, "rank " + r + " took " + seconds + " s");
            String err = w.stderr();
            assertTrue(err.startsWith("FAILED ") && err.contains("on rank " + r + ": rank 2 lost"), err);
        }
    }
}
