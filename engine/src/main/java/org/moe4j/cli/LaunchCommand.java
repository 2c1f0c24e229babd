package org.moe4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.moe4j.distributed.LocalLaunch;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.ShardedCheckpoint;
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
 * failing rank's, or 0. With {@code --max-restarts R}, a failed group is started again, up to R
 * times; a {@code train} command then resumes from the last committed checkpoint of its run
 * directory. Each child sees the attempt number as {@code MOE_RESTART_COUNT} (0 first).
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = {"Run a command as N local ranks, e.g. moe launch --nproc 2 train --steps 100.",
                "Each rank gets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and a fresh job secret."})
final class LaunchCommand implements Callable<Integer> {
    /** How long the other ranks may take to stop (finish a step, checkpoint, report) before they are killed. */
    static final long GRACE_MILLIS = 10_000;

    @Option(names = "--nproc", required = true, description = "number of ranks to start (at least 1)")
    int nproc;

    @Option(names = "--max-restarts", paramLabel = "R", defaultValue = "0",
            description = {"after a failure, restart all ranks up to R times (default ${DEFAULT-VALUE});",
                    "a train command resumes from its run directory's last checkpoint (--run-dir is added if missing)"})
    int maxRestarts;

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
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("--max-restarts=" + maxRestarts + " must not be negative");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> args = new ArrayList<>(command);
        Path runDir = maxRestarts > 0 && args.getFirst().equals("train") ? runDirectory(args) : null;
        for (int attempt = 0;; attempt++) {
            if (attempt > 0 && runDir != null && Files.isRegularFile(runDir.resolve(ShardedCheckpoint.MANIFEST))) {
                resumeFrom(args, runDir);
            }
            int status = launchOnce(args, attempt, out, err);
            if (status == 0 || attempt >= maxRestarts) {
                return status;
            }
            synchronized (err) {
                err.printf("launch: restart %d of %d after exit status %d; %s%n", attempt + 1, maxRestarts, status,
                        runDir == null ? "running the command again"
                                : Files.isRegularFile(runDir.resolve(ShardedCheckpoint.MANIFEST))
                                        ? "resuming from the last checkpoint in " + runDir
                                        : "no checkpoint yet in " + runDir + ", starting over");
                err.flush();
            }
        }
    }

    /**
     * The run directory of a train command: its --run-dir, else the directory of its --resume
     * checkpoint, else a new one under runs/ that is added as --run-dir so that a restart finds it.
     */
    private static Path runDirectory(List<String> args) throws IOException {
        String given = value(args, "--run-dir");
        if (given != null) {
            return Path.of(given).toAbsolutePath();
        }
        String resume = value(args, "--resume");
        if (resume != null) {
            Path p = Path.of(resume).toAbsolutePath();
            return Files.isDirectory(p) ? p : p.getParent();
        }
        Path created = RunDirectory.create(RunDirectory.RUNS).path().toAbsolutePath();
        args.add("--run-dir");
        args.add(created.toString());
        return created;
    }

    /** The value of {@code --name V} or {@code --name=V} in the arguments, or null. */
    private static String value(List<String> args, String name) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals(name) && i + 1 < args.size()) {
                return args.get(i + 1);
            }
            if (args.get(i).startsWith(name + "=")) {
                return args.get(i).substring(name.length() + 1);
            }
        }
        return null;
    }

    /** Replaces any --resume of the arguments by the run directory (whose latest checkpoint is then used). */
    private static void resumeFrom(List<String> args, Path runDir) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--resume") && i + 1 < args.size()) {
                args.remove(i + 1);
                args.remove(i--);
            } else if (args.get(i).startsWith("--resume=")) {
                args.remove(i--);
            }
        }
        args.add("--resume");
        args.add(runDir.toString());
    }

    /** Starts the ranks once and waits for them; the exit status is the first failing rank's, or 0. */
    private int launchOnce(List<String> args, int attempt, PrintWriter out, PrintWriter err) throws Exception {
        String host = "127.0.0.1";
        int port = LocalLaunch.freePort(host);
        String jobId = LocalLaunch.newJobId();
        String secret = LocalLaunch.newJobSecret();
        List<Process> ranks = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        // Stopped itself (Ctrl-C, SIGTERM): the ranks get the signal too and the grace to checkpoint.
        Thread cleanup = Thread.ofPlatform().unstarted(() -> stop(ranks));
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = new ProcessBuilder(childCommand(args));
                Map<String, String> env = pb.environment();
                env.keySet().removeIf(k -> k.startsWith("SLURM_") || k.startsWith("OMPI_")
                        || k.startsWith("TORCHELASTIC_") || k.equals("MOE_RENDEZVOUS_PORT"));
                env.putAll(LocalLaunch.rankEnvironment(r, nproc, host, port, jobId, secret));
                env.put("MOE_RESTART_COUNT", Integer.toString(attempt));
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

    /**
     * Waits for every rank. At the first failure the others are stopped at once (SIGTERM: a rank in
     * training stops after its step, one still waiting for the others exits); those still running
     * after the grace are killed.
     */
    private static int await(List<Process> ranks, PrintWriter err) throws InterruptedException {
        int status = 0;
        long killAt = Long.MAX_VALUE;
        while (true) {
            boolean running = false;
            for (int r = 0; r < ranks.size(); r++) {
                Process p = ranks.get(r);
                if (p.isAlive()) {
                    running = true;
                } else if (killAt == Long.MAX_VALUE && p.exitValue() != 0) {
                    status = p.exitValue();
                    killAt = System.currentTimeMillis() + GRACE_MILLIS;
                    synchronized (err) {
                        err.println("launch: rank " + r + " failed with status " + status + "; stopping the other ranks");
                        err.flush();
                    }
                    ranks.forEach(Process::destroy);
                }
            }
            if (!running) {
                break;
            }
            if (System.currentTimeMillis() > killAt) {
                ranks.forEach(Process::destroyForcibly);
                for (Process p : ranks) {
                    p.waitFor(10, TimeUnit.SECONDS);
                }
                break;
            }
            Thread.sleep(50);
        }
        return status;
    }

    /** SIGTERM to every rank, SIGKILL to those still running after the grace. */
    private static void stop(List<Process> ranks) {
        ranks.forEach(Process::destroy);
        long deadline = System.currentTimeMillis() + GRACE_MILLIS;
        for (Process p : ranks) {
            try {
                p.waitFor(Math.max(0, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ranks.forEach(Process::destroyForcibly);
    }

    /** This JVM again (same java, JVM options and class path) running the given moe command. */
    private static List<String> childCommand(List<String> command) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // The launcher's stderr descriptor is this process's own; a child has none.
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-javaagent")
                    && !arg.startsWith("-D" + LauncherStderr.PROPERTY + "=")) {
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
                if (line.equals(LauncherStderr.INCUBATOR_WARNING)) {
                    continue;
                }
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
