package org.moe4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.testing.Close;
import org.moe4j.testing.Requirement;
import org.moe4j.train.metrics.MetricsLog;

/**
 * The README's commands, run for real after the build: the {@code moe} launcher, two ranks under
 * torchrun (from python3-torch) and under mpirun (from openmpi-bin) that equal one process, and a
 * custom expert compiled with javac outside the repo's modules, trained through {@code ./moe
 * --classpath} and then evaluated, sampled and inspected from its checkpoint. A launcher that is
 * not installed skips its test with how to install it.
 */
class LaunchersIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path MOE = ROOT.resolve("moe");
    /** The tiny model of the engine's tests, 4 steps of 4 sequences, 4 experts so that 2 ranks split them. */
    private static final List<String> TINY = List.of("--set", "model.context_size=16", "--set", "model.layers=2",
            "--set", "model.heads=2", "--set", "model.width=16", "--set", "model.hidden=32", "--set",
            "corpus_bytes=20000", "--set", "moe.hidden=16", "--set", "moe.experts=4", "--set", "log_every=1",
            "--set", "eval_batches=1", "--steps", "4", "--batch-size", "4");
    private static final String SECRET = newSecret();

    @TempDir
    static Path dir;

    private static List<Double> oneProcess;

    @BeforeAll
    static void trainOneProcess() throws Exception {
        Path run = dir.resolve("one-process");
        Result r = run(List.of(), moeTrain(run));
        assertEquals(0, r.status(), r.output());
        oneProcess = losses(run);
        assertEquals(4, oneProcess.size());
    }

    @Test
    void theLauncherPrintsNoIncubatorWarningAndItsErrorsInFull() throws Exception {
        Result r = run(List.of(), List.of(MOE.toString(), "train", "--set", "steps=2.5"));
        assertEquals(2, r.status(), r.output());
        assertEquals("error: steps=2.5 is not allowed: must be a whole number\n", r.output());
    }

    @Test
    void torchrunWithTwoRanksEqualsOneProcess() throws Exception {
        Requirement.assume("torchrun", onPath("torchrun"), "not installed: apt-get install python3-torch");
        Result help = run(List.of(), List.of("torchrun", "--help"));
        // The README's two lines: torch >= 2 spells its options with dashes; Debian 12's torch 1.13
        // (Python 3.11) takes underscores and needs a --redirects mapping, its default "0" being broken.
        List<String> cmd = help.output().contains("--nproc-per-node")
                ? new ArrayList<>(List.of("torchrun", "--no-python", "--nproc-per-node", "2"))
                : new ArrayList<>(List.of("torchrun", "--no_python", "--nproc_per_node", "2", "--redirects", "9:1",
                        "--tee", "9:1", "--master_port", Integer.toString(freePort())));
        if (help.output().contains("--nproc-per-node")) {
            cmd.addAll(List.of("--master-port", Integer.toString(freePort())));
        }
        Path run = dir.resolve("torchrun");
        cmd.addAll(moeTrain(run));
        Result r = run(List.of("MOE_JOB_SECRET=" + SECRET), cmd);
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("x 2 ranks"), r.output());
        assertSameLosses(losses(run));
    }

    @Test
    void mpirunWithTwoRanksEqualsOneProcess() throws Exception {
        Requirement.assume("mpirun", onPath("mpirun"), "not installed: apt-get install openmpi-bin");
        List<String> cmd = new ArrayList<>(List.of("mpirun", "-np", "2", "--oversubscribe", "-x", "MOE_JOB_SECRET",
                "-x", "MOE_RENDEZVOUS_PORT"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("--allow-run-as-root");
        }
        Path run = dir.resolve("mpirun");
        cmd.addAll(moeTrain(run));
        Result r = run(List.of("MOE_JOB_SECRET=" + SECRET, "MOE_RENDEZVOUS_PORT=" + freePort()), cmd);
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("x 2 ranks"), r.output());
        assertSameLosses(losses(run));
    }

    @Test
    void aCustomExpertCompiledOutsideTheRepoTrainsAndItsCheckpointIsUsable() throws Exception {
        Path classes = Files.createDirectories(dir.resolve("expert-classes"));
        Path source = Path.of("src/it/custom-expert/com/example/experts/SquaredReluExpert.java").toAbsolutePath();
        Path javac = Path.of(System.getProperty("java.home"), "bin", "javac");
        Result compiled = run(List.of(), List.of(javac.toString(), "--release", "25",
                "--add-modules=jdk.incubator.vector", "-cp", ROOT.resolve("engine/target/engine.jar") + ":"
                        + ROOT.resolve("engine/target/lib") + "/*", "-d", classes.toString(), source.toString()));
        assertEquals(0, compiled.status(), compiled.output());

        Path run = dir.resolve("custom");
        List<String> train = new ArrayList<>(List.of(MOE.toString(), "--classpath", classes.toString()));
        train.addAll(moeTrain(run).subList(1, moeTrain(run).size()));
        train.addAll(List.of("--expert", "com.example.experts.SquaredReluExpert"));
        Result trained = run(List.of(), train);
        assertEquals(0, trained.status(), trained.output());
        assertEquals(4, losses(run).size());

        for (List<String> use : List.of(List.of("eval", run.toString()), List.of("generate", run.toString(),
                "--tokens", "8"), List.of("inspect", run.toString()))) {
            List<String> cmd = new ArrayList<>(List.of(MOE.toString(), "--classpath", classes.toString()));
            cmd.addAll(use);
            Result r = run(List.of(), cmd);
            assertEquals(0, r.status(), use + ": " + r.output());
        }
        Result inspected = run(List.of("MOE_CLASSPATH=" + classes), List.of(MOE.toString(), "inspect", run.toString()));
        assertTrue(inspected.output().contains("blocks.0.ffn.experts.up.weight"), inspected.output());
        Result without = run(List.of(), List.of(MOE.toString(), "eval", run.toString()));
        assertEquals(3, without.status(), without.output());
        assertTrue(without.output().contains("com.example.experts.SquaredReluExpert")
                && without.output().contains("--classpath"), without.output());
    }

    /** {@code ./moe train} with the tiny model into {@code run}. */
    private static List<String> moeTrain(Path run) {
        List<String> cmd = new ArrayList<>(List.of(MOE.toString(), "train"));
        cmd.addAll(TINY);
        cmd.addAll(List.of("--run-dir", run.toString()));
        return cmd;
    }

    private static void assertSameLosses(List<Double> losses) {
        Close.assertClose("losses by step, 2 ranks against one process", oneProcess, losses, 0, 1e-5);
    }

    private static List<Double> losses(Path run) throws IOException {
        return MetricsLog.read(run).stream().map(line -> ((Number) line.get("loss")).doubleValue()).toList();
    }

    private record Result(int status, String output) {
    }

    private static Result run(List<String> env, List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> environment = pb.environment();
        environment.keySet().removeIf(k -> k.startsWith("MOE_") || k.startsWith("OMPI_") || k.startsWith("SLURM_")
                || k.equals("RANK") || k.equals("WORLD_SIZE") || k.equals("MASTER_ADDR") || k.equals("MASTER_PORT"));
        for (String e : env) {
            environment.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        Path log = Files.createTempFile(dir, "out", ".txt");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish: " + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private static boolean onPath(String program) {
        return Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String newSecret() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
