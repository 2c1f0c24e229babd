package org.moe4j.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code moe} as a child process: this JVM's java, options and class path running {@link Main}. */
final class ChildMoe {
    private ChildMoe() {
    }

    /** The command line running {@code moe args...}. */
    static List<String> command(String... args) {
        return command(List.of(), args);
    }

    /**
     * The command line running {@code moe args...} with {@code jvmOptions} after this JVM's own
     * (so they win); {@code moe launch} passes them on to its ranks.
     */
    static List<String> command(List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-javaagent") && !a.startsWith("-agentlib")).toList());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A builder for {@code command}, its environment free of any launcher's variables. */
    static ProcessBuilder builder(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("SLURM_") || k.startsWith("OMPI_")
                || k.startsWith("TORCHELASTIC_") || k.startsWith("MOE_") || k.equals("RANK") || k.equals("WORLD_SIZE")
                || k.equals("LOCAL_RANK") || k.equals("MASTER_ADDR") || k.equals("MASTER_PORT"));
        return pb;
    }
}
