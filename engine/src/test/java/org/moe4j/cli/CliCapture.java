package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;

/** The {@code moe} command line run in this JVM, its error output kept and its picocli output dropped. */
final class CliCapture {
    private final StringWriter err = new StringWriter();

    /** Runs {@code moe args...}; returns the exit status. */
    int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    /** Runs {@code moe args...}, which must succeed, and returns what it printed to {@link System#out}. */
    String output(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = run(args);
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, status, String.join(" ", args) + ": " + err);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * {@code moe eval}, {@code generate} and {@code inspect} of a run's checkpoint all work, and the
     * held-out loss {@code eval} prints is the run's last {@code eval_loss}.
     */
    void checkpointServesEvalGenerateAndInspect(Path run, double lastEvalLoss, int step) {
        String eval = output("eval", run.toString());
        assertTrue(eval.startsWith("step " + step + "  eval loss " + String.format(Locale.ROOT, "%.4f", lastEvalLoss)),
                "eval printed " + eval + "; the run's last eval loss was " + lastEvalLoss);
        String prompt = "17+25=";
        String generated = output("generate", run.toString(), "--prompt", prompt, "--tokens", "12");
        assertTrue(generated.startsWith(prompt) && generated.length() > prompt.length(), generated);
        String inspected = output("inspect", run.toString());
        assertTrue(inspected.contains("step " + step) && inspected.contains("router.weight"), inspected);
    }

    /** Everything written to the error output so far. */
    String err() {
        return err.toString();
    }
}
