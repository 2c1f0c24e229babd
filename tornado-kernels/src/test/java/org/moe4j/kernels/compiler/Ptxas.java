package org.moe4j.kernels.compiler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * NVIDIA's PTX assembler, where this machine has it: {@code -Dmoe4j.ptxas=PATH}, else
 * {@code /usr/local/bin/ptxas}, else {@code ptxas} on the PATH. The one place that decides whether
 * the PTX assembly tests run.
 */
public final class Ptxas {
    /** System property naming the ptxas binary. */
    public static final String PROPERTY = "moe4j.ptxas";
    private static final Path BINARY = find();

    private Ptxas() {
    }

    /** Whether ptxas was found. */
    public static boolean available() {
        return BINARY != null;
    }

    /** Why the ptxas tests are skipped; null when ptxas is here. */
    public static String unavailableReason() {
        return available() ? null : "ptxas not found (set -D" + PROPERTY + "=PATH, or install the CUDA toolkit so that"
                + " /usr/local/bin/ptxas or ptxas on the PATH exists)";
    }

    /** The outcome of one assembly: ptxas's exit status and what it printed. */
    public record Result(int status, String log) {
    }

    /** Assembles {@code ptx} for {@code arch} ({@code sm_90}) into a cubin that is thrown away. */
    public static Result assemble(String ptx, String arch) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("ptxas");
        try {
            Path source = Files.writeString(dir.resolve("kernel.ptx"), ptx);
            Process p = new ProcessBuilder(BINARY.toString(), "-arch=" + arch, source.toString(), "-o",
                    dir.resolve("kernel.cubin").toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "ptxas did not finish in 60 s");
            }
            return new Result(p.exitValue(), log);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static Path find() {
        String property = System.getProperty(PROPERTY);
        if (property != null) {
            return Files.isExecutable(Path.of(property)) ? Path.of(property) : null;
        }
        Path usual = Path.of("/usr/local/bin/ptxas");
        if (Files.isExecutable(usual)) {
            return usual;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, "ptxas");
            if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
