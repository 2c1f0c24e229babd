package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Exit codes and messages of the command line for bad input. */
class MainTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void helpListsTheCommands() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute("--help"));
        for (String command : new String[] {"train", "eval", "generate", "inspect"}) {
            assertTrue(out.toString().contains(command), out.toString());
        }
    }

    @Test
    void invalidConfigValueExitsWithUsageErrorNamingTheField() {
        assertEquals(Main.EXIT_USAGE, run("train", "--steps", "0", "--run-dir", dir.resolve("r").toString()));
        assertTrue(err.toString().contains("steps=0") && err.toString().contains(">= 1"), err.toString());
    }

    @Test
    void unknownFieldAndDeviceAreUsageErrors() {
        assertEquals(Main.EXIT_USAGE, run("train", "--set", "model.depth=3", "--run-dir", dir.toString()));
        assertTrue(err.toString().contains("model.depth"), err.toString());
        assertEquals(Main.EXIT_USAGE, run("train", "--device", "tpu", "--run-dir", dir.toString()));
        assertTrue(err.toString().contains("device=tpu"), err.toString());
    }

    @Test
    void garbageCheckpointIsRefusedWithTheFileName() throws IOException {
        Path bogus = dir.resolve("checkpoint.safetensors");
        Files.write(bogus, new byte[] {1, 2, 3});
        assertEquals(Main.EXIT_IO, run("inspect", bogus.toString()));
        assertTrue(err.toString().contains(bogus.toString()), err.toString());
        assertEquals(Main.EXIT_USAGE, run("generate", dir.resolve("missing.safetensors").toString()));
        assertTrue(err.toString().contains("does not exist"), err.toString());
    }
}
