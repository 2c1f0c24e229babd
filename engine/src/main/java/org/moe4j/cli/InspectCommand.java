package org.moe4j.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.moe4j.moe.MoeConfig;
import org.moe4j.moe.ParameterCounts;
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
        Map<String, Long> sizes = new LinkedHashMap<>();
        checkpoint.tensors().forEach((name, entry) -> {
            if (Checkpoint.isParameter(name)) {
                System.out.printf("  %-40s %-16s %,10d%n", name, Arrays.toString(entry.shape()), entry.numel());
                sizes.put(name, (long) entry.numel());
            }
        });
        MoeConfig moe = checkpoint.config().model().moe();
        ParameterCounts counts = ParameterCounts.of(sizes, moe);
        if (moe != null) {
            System.out.printf("moe: router %s, %d experts (%s), %s active per token%n", moe.router(), moe.experts(),
                    moe.expert(), moe.activeExpertsPerToken());
            counts.expertsByLayer().forEach((layer, n) -> System.out.printf(
                    "  %-40s %,d expert parameters (%,d per expert)%n", layer + "experts", n, n / moe.experts()));
        }
        System.out.printf("parameters: %,d total, %,d in experts, %,d active per token%n", counts.total(),
                counts.experts(), counts.active());
        return 0;
    }
}
