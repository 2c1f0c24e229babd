package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.testing.Requirement;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.TrainConfig;
import picocli.CommandLine;

/**
 * A run directory on a file system too small for a second checkpoint (a tmpfs mounted in a mount
 * namespace of the child's own, so nothing is left mounted): the error names the file and the
 * space, the first checkpoint stays loadable, and the run stops with the I/O status.
 */
class DiskFullTest {
    @TempDir
    Path dir;

    @Test
    void aFullFileSystemStopsTheRunCleanlyAndKeepsThePreviousCheckpoint() throws Exception {
        Requirement.assume("tmpfs", canMountTmpfs(), "cannot mount a tmpfs in a mount namespace"
                + " (needs root or user namespaces, and unshare from util-linux)");
        String[] train = TinyTrain.with("--steps", "3", "--batch-size", "2", "--set", "checkpoint_every=1");
        TrainConfig config = ((TrainCommand) new CommandLine(new TrainCommand()).parseArgs(train).commandSpec()
                .userObject()).config();
        // Room for one checkpoint (parameters and two moments, float32, plus its header), not two.
        long checkpoint = 12 * config.model().parameterCount() + 32 * 1024;
        long size = (checkpoint * 3 / 2 + 4095) / 4096 * 4096;

        Path mount = Files.createDirectories(dir.resolve("small"));
        Path copy = Files.createDirectories(dir.resolve("copy"));
        List<String> moe = new ArrayList<>(ChildMoe.command("train"));
        moe.addAll(List.of(train));
        moe.addAll(List.of("--run-dir", mount.resolve("run").toString()));
        List<String> command = new ArrayList<>(List.of("unshare", "-rm", "bash", "-c",
                "mount -t tmpfs -o size=" + size + " tmpfs \"$0\" || exit 99; shift; \"$@\"; status=$?;"
                        + " cp -a \"$0\"/. " + copy + "/; exit $status", mount.toString(), "--"));
        command.addAll(moe);
        Path out = dir.resolve("out.txt");
        Process p = ChildMoe.builder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running");
        String output = Files.readString(out);
        assertEquals(Main.EXIT_IO, p.exitValue(), output);

        Path file = mount.resolve("run").resolve(Checkpoint.FILE_NAME);
        assertTrue(output.contains("error: cannot write the checkpoint of step 2 to " + file)
                && output.contains("No space left on device") && output.contains("it needs about")
                && output.contains("MB are free there") && output.contains("the checkpoint of step 1"), output);
        assertFalse(output.contains("\tat "), "a stack trace: " + output);
        assertEquals(1, Checkpoint.load(copy.resolve("run").resolve(Checkpoint.FILE_NAME)).step());
        try (Stream<Path> files = Files.walk(copy)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "a temporary file was left");
        }
    }

    private boolean canMountTmpfs() throws IOException, InterruptedException {
        Path probe = Files.createDirectories(dir.resolve("probe"));
        try {
            Process p = new ProcessBuilder("unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                    probe.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException noUnshare) {
            return false;
        }
    }
}
