package org.moe4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.moe4j.distributed.LocalLaunch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Starts N ranks of a command on this machine, as torchrun does: each child runs this JVM's
 * {@code moe} with {@code RANK}, {@code LOCAL_RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}
 * (127.0.0.1), {@code MASTER_PORT} (a free port) and a fresh {@code MOE_JOB_SECRET} in its
 * environment. Every output line is prefixed with {@code [rank r]}. When a rank fails, the others
 * get a short grace to report their own error, then are killed; the exit status is the first
 * failing rank's, or 0.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = {"Run a command as N local ranks, e.g. moe launch --nproc 2 train --steps 100.",
                "Each rank gets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and a fresh job secret."})
final class LaunchCommand implements Callable<Integer> {
    /** How long the other ranks may take to report their own error after one failed. */
    static final long GRACE_MILLIS = 10_000;

    @Option(names = "--nproc", required = true, description = "number of ranks to start (at least 1)")
    int nproc;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "the moe command and its arguments")
    List<String> command = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (nproc < 1) {
            throw new IllegalArgumentException("--nproc=" + nproc + " must be at least 1");
        }
        if (command.getFirst().equals("launch")) {
            throw new IllegalArgumentException("moe launch cannot launch itself");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String host = "127.0.0.1";
        int port = LocalLaunch.freePort(host);
        String jobId = LocalLaunch.newJobId();
        String secret = LocalLaunch.newJobSecret();
        List<Process> ranks = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        Thread cleanup = Thread.ofPlatform().unstarted(() -> ranks.forEach(Process::destroyForcibly));
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = new ProcessBuilder(childCommand());
                Map<String, String> env = pb.environment();
                env.keySet().removeIf(k -> k.startsWith("SLURM_") || k.startsWith("OMPI_")
                        || k.startsWith("TORCHELASTIC_") || k.equals("MOE_RENDEZVOUS_PORT"));
                env.putAll(LocalLaunch.rankEnvironment(r, nproc, host, port, jobId, secret));
                Process p = pb.start();
                ranks.add(p);
                String prefix = "[rank " + r + "] ";
                readers.add(Thread.ofPlatform().daemon().start(() -> forward(p.getInputStream(), out, prefix)));
                readers.add(Thread.ofPlatform().daemon().start(() -> forward(p.getErrorStream(), err, prefix)));
            }
            int status = await(ranks, err);
            for (Thread t : readers) {
                t.join(2000);
            }
            out.flush();
            err.flush();
            return status;
        } finally {
            ranks.forEach(Process::destroyForcibly);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook runs
            }
        }
    }

    /** Waits for every rank; after the first failure, the others get the grace, then are killed. */
    private static int await(List<Process> ranks, PrintWriter err) throws InterruptedException {
        int status = 0;
        int failed = -1;
        long killAt = Long.MAX_VALUE;
        while (true) {
            boolean running = false;
            for (int r = 0; r < ranks.size(); r++) {
                Process p = ranks.get(r);
                if (p.isAlive()) {
                    running = true;
                } else if (failed < 0 && p.exitValue() != 0) {
                    failed = r;
                    status = p.exitValue();
                    killAt = System.currentTimeMillis() + GRACE_MILLIS;
                }
            }
            if (!running) {
                break;
            }
            if (System.currentTimeMillis() > killAt) {
                synchronized (err) {
                    err.println("launch: rank " + failed + " failed with status " + status
                            + "; stopping the ranks still running");
                }
                for (Process p : ranks) {
                    p.destroyForcibly();
                }
                for (Process p : ranks) {
                    p.waitFor(10, TimeUnit.SECONDS);
                }
                break;
            }
            Thread.sleep(50);
        }
        return status;
    }

    /** This JVM again (same java, JVM options and class path) running the given moe command. */
    private List<String> childCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-javaagent")) {
                cmd.add(arg);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(command);
        return cmd;
    }

    private static void forward(InputStream in, PrintWriter to, String prefix) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null;) {
                synchronized (to) {
                    to.println(prefix + line);
                    to.flush();
                }
            }
        } catch (IOException ignored) {
            // the rank ended
        }
    }
}
