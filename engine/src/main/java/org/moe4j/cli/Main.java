package org.moe4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.moe4j.distributed.CollectiveException;
import org.moe4j.distributed.RendezvousException;
import org.moe4j.train.TrainingDivergedException;
import org.moe4j.train.checkpoint.CheckpointFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code moe} command line. Exceptions become exit codes here and nowhere else. */
@Command(name = "moe", mixinStandardHelpOptions = true, version = "moe4j 0.1.0",
        description = "Train and study Mixture-of-Experts transformers in pure Java.",
        footer = {"", "The moe launcher also takes, before the command: --classpath PATH (directories and jars with",
                "custom experts or step listeners, ':'-separated). Environment: MOE_CLASSPATH (the same),",
                "MOE_JAVA_OPTS (JVM options, e.g. -Xmx8g), JAVA_HOME (a JDK 25)."},
        subcommands = {TrainCommand.class, LaunchCommand.class, EvalCommand.class, GenerateCommand.class, InspectCommand.class,
                PlanCommand.class,
                StudyCommand.class, DevicesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Invalid arguments or configuration. */
    static final int EXIT_USAGE = 2;
    /** A checkpoint or data file could not be used. */
    static final int EXIT_IO = 3;
    /** The loss diverged. */
    static final int EXIT_DIVERGED = 4;
    /** A study finished, but some of its runs failed (they are listed in its results.md). */
    static final int EXIT_RUNS_FAILED = 5;
    /** A distributed run failed: a peer was lost, a collective timed out, or the ranks did not meet. */
    static final int EXIT_DISTRIBUTED = 6;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        LauncherStderr.use();
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        // Everything after launch's options is the command to run, its options included.
        cli.getSubcommands().get("launch").setStopAtPositional(true);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("error: " + e.getMessage());
            return switch (e) {
                case IllegalArgumentException ignored -> EXIT_USAGE;
                case CheckpointFormatException ignored -> EXIT_IO;
                case IOException ignored -> EXIT_IO;
                case UncheckedIOException ignored -> EXIT_IO;
                case TrainingDivergedException ignored -> EXIT_DIVERGED;
                case CollectiveException ignored -> EXIT_DISTRIBUTED;
                case RendezvousException ignored -> EXIT_DISTRIBUTED;
                default -> {
                    e.printStackTrace(line.getErr());
                    yield 1;
                }
            };
        });
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
