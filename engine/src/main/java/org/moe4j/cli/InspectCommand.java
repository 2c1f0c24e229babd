package org.moe4j.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's config, step and tensors (default: the latest run's).")
final class InspectCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "CHECKPOINT", description = "checkpoint file or run directory")
    Path checkpointPath;

    @Override
    public Integer call() throws Exception {
        Path file = CheckpointArgument.resolve(checkpointPath);
        Checkpoint checkpoint = Checkpoint.load(file);
        System.out.printf("checkpoint %s%nstep %d%nparameters %,d%n", file, checkpoint.step(),
                checkpoint.parameterCount());
        System.out.println("config " + ConfigLoader.toJson(checkpoint.config()));
        checkpoint.tensors().forEach((name, entry) -> {
            if (!name.startsWith("optimizer.")) {
                System.out.printf("  %-40s %-16s %,10d%n", name, Arrays.toString(entry.shape()), entry.numel());
            }
        });
        return 0;
    }
}
