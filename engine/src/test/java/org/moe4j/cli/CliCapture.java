package org.moe4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
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

    /** Everything written to the error output so far. */
    String err() {
        return err.toString();
    }
}
