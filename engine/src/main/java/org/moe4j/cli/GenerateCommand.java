package org.moe4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.moe4j.data.ByteTokenizer;
import org.moe4j.kernels.Device;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.Devices;
import org.moe4j.train.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Sample text from a checkpoint (default: the latest run's).")
final class GenerateCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "CHECKPOINT", description = "checkpoint file or run directory")
    Path checkpointPath;

    @Option(names = "--prompt", description = "text to continue (default: a newline)")
    String prompt = "\n";

    @Option(names = "--tokens", description = "tokens (bytes) to generate, default ${DEFAULT-VALUE}")
    int tokens = 200;

    @Option(names = "--temperature", description = "sampling temperature > 0, default ${DEFAULT-VALUE}")
    double temperature = 0.8;

    @Option(names = "--top-k", description = "sample among the k most likely tokens (0: all), default ${DEFAULT-VALUE}")
    int topK = 20;

    @Option(names = "--seed", description = "sampling seed, default ${DEFAULT-VALUE}")
    long seed = 1;

    @Override
    public Integer call() throws Exception {
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens=" + tokens + " is out of range: must be >= 1");
        }
        Checkpoint checkpoint = Checkpoint.load(CheckpointArgument.resolve(checkpointPath));
        try (Device device = Devices.open(checkpoint.config().device())) {
            Sampler sampler = new Sampler(ModelLoader.load(checkpoint, device), seed);
            int[] generated = sampler.generate(new ByteTokenizer().encode(prompt), tokens, temperature, topK);
            System.out.println(prompt + new ByteTokenizer().decode(generated));
        }
        return 0;
    }
}
