package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.cuda.CudaDriver;
import org.moe4j.moe.MoeConfig;
import picocli.CommandLine;

/** Exit codes and messages of the command line for bad input. */
class MainTest {
    @TempDir
    Path dir;

    private final CliCapture moe = new CliCapture();

    private int run(String... args) {
        return moe.run(args);
    }

    @Test
    void helpListsTheCommandsEachWithAWholeFirstSentenceAndTheLauncherOptions() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute("--help"));
        for (String command : new String[] {"train", "eval", "generate", "inspect", "study"}) {
            assertTrue(out.toString().contains(command), out.toString());
        }
        for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
            String[] description = sub.getValue().getCommandSpec().usageMessage().description();
            assertTrue(description.length > 0 && description[0].endsWith("."),
                    sub.getKey() + "'s summary is not a whole sentence: " + String.join(" | ", description));
        }
        assertTrue(out.toString().contains("--classpath") && out.toString().contains("MOE_JAVA_OPTS"), out.toString());
    }

    @Test
    void invalidConfigValueExitsWithUsageErrorNamingTheField() {
        assertEquals(Main.EXIT_USAGE, run("train", "--steps", "0", "--run-dir", dir.resolve("r").toString()));
        assertTrue(moe.err().contains("steps=0") && moe.err().contains(">= 1"), moe.err());
    }

    @Test
    void unknownFieldAndDeviceAreUsageErrors() {
        assertEquals(Main.EXIT_USAGE, run("train", "--set", "model.depth=3", "--run-dir", dir.toString()));
        assertTrue(moe.err().contains("model.depth"), moe.err());
        assertEquals(Main.EXIT_USAGE, run("train", "--device", "tpu", "--run-dir", dir.toString()));
        assertTrue(moe.err().contains("device=tpu"), moe.err());
    }

    @Test
    void cudaWithoutAGpuFailsBeforeTrainingSayingWhatIsMissing() {
        assumeFalse(CudaDriver.available(), "a GPU is here");
        Path run = dir.resolve("cuda");
        assertEquals(Main.EXIT_USAGE, run("train", "--device", "cuda", "--steps", "1", "--run-dir", run.toString()));
        assertTrue(moe.err().contains("no CUDA device: " + CudaDriver.unavailableReason()), moe.err());
        assertTrue(!Files.exists(run), "a failed start left " + run);
    }

    @Test
    void studyRunsAGridFileAndReportsFailedRuns() throws IOException {
        Path grid = dir.resolve("grid.json");
        Files.writeString(grid, """
                {"name": "cli", "base": {"steps": 2, "batch_size": 2, "eval_every": 2, "eval_batches": 1,
                 "corpus_bytes": 8000, "model": {"context_size": 8, "layers": 1, "heads": 1, "width": 8, "hidden": 16}},
                 "vary": {"learning_rate": [0.01]}}""");
        Path out = dir.resolve("study");
        assertEquals(0, run("study", "--grid", grid.toString(), "--out", out.toString()));
        assertTrue(Files.readString(out.resolve("results.md")).contains("| learning_rate=0.01 | 1/1 |"));

        Files.writeString(grid, Files.readString(grid).replace("[0.01]", "[0.01, 1e30]"));
        assertEquals(Main.EXIT_RUNS_FAILED, run("study", "--grid", grid.toString(), "--out", out.toString()));
        assertTrue(Files.readString(out.resolve("results.md")).contains("**failed**"));
    }

    @Test
    void studyRefusesBadArgumentsAndListsThePreset() throws IOException {
        assertEquals(Main.EXIT_USAGE, run("study"));
        assertTrue(moe.err().contains("m6t"), moe.err());
        assertEquals(Main.EXIT_USAGE, run("study", "m7"));
        assertTrue(moe.err().contains("'m7'"), moe.err());
        assertEquals(Main.EXIT_USAGE, run("study", "m6t", "--preset", "huge", "--list"));
        assertTrue(moe.err().contains("'huge'"), moe.err());
        Path grid = dir.resolve("typo.json");
        Files.writeString(grid, "{\"name\": \"t\", \"vary\": {\"learning_rat\": [0.1]}}");
        assertEquals(Main.EXIT_USAGE, run("study", "--grid", grid.toString(), "--out", dir.resolve("t").toString()));
        assertTrue(moe.err().contains("'learning_rat'"), moe.err());

        // The listing goes to System.out, like the other commands' output.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, run("study", "m6t", "--preset", "quick", "--list"));
            assertEquals(0, run("study", "modern", "--list"));
        } finally {
            System.setOut(saved);
        }
        String listing = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(listing.contains("16 configurations x 2 seeds = 32 runs"), listing);
        assertTrue(listing.contains("2top1-cf0.5-s2  model.moe.router=prototype, model.moe.k=2"), listing);
        assertTrue(listing.contains("study modern-full: 6 configurations x 2 seeds = 12 runs"), listing);
        assertTrue(listing.contains("fine-top4-shared-s1  model.moe.router=topk, model.moe.k=4, model.moe.experts=19"),
                listing);
    }

    @Test
        void moeFlagsSetTheModelsMoeFields() {
        TrainCommand train = new TrainCommand();
        new CommandLine(train).parseArgs("--router", "topk", "--k", "2", "--experts", "16", "--expert", "swiglu",
                "--capacity-factor", "1.5");
        MoeConfig moe = train.config().model().moe();
        assertEquals(new MoeConfig("topk", 16, 2, 1.5, MoeConfig.DEFAULT.evalCapacityFactor(), false,
                MoeConfig.DEFAULT.auxLossCoef(), MoeConfig.DEFAULT.zLossCoef(), 0.0, "swiglu",
                MoeConfig.DEFAULT.hidden(), 1), moe);
    }

    @Test
    void badMoeSettingsAreUsageErrorsNamingTheField() {
        assertEquals(Main.EXIT_USAGE, run("train", "--experts", "6", "--k", "4", "--run-dir", dir.toString()));
        assertTrue(moe.err().contains("moe.experts=6 is not divisible by moe.k=4"), moe.err());
        assertEquals(Main.EXIT_USAGE, run("train", "--expert", "com.example.Missing", "--run-dir", dir.toString()));
        assertTrue(moe.err().contains("moe.expert=com.example.Missing"), moe.err());
    }

    @Test
    void garbageCheckpointIsRefusedWithTheFileName() throws IOException {
        Path bogus = dir.resolve("checkpoint.safetensors");
        Files.write(bogus, new byte[] {1, 2, 3});
        assertEquals(Main.EXIT_IO, run("inspect", bogus.toString()));
        assertTrue(moe.err().contains(bogus.toString()), moe.err());
        assertEquals(Main.EXIT_USAGE, run("generate", dir.resolve("missing.safetensors").toString()));
        assertTrue(moe.err().contains("does not exist"), moe.err());
    }
}
