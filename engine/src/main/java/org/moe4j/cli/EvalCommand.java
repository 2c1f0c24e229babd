package org.moe4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.moe4j.kernels.Device;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.Evaluator;
import org.moe4j.train.Perplexity;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.TrainingData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Held-out loss and perplexity of a checkpoint (default: the latest run's).")
final class EvalCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "CHECKPOINT", description = "checkpoint file or run directory")
    Path checkpointPath;

    @Option(names = "--data", paramLabel = "FILE", description = "evaluate on this text file's held-out split instead")
    Path data;

    @Option(names = "--batches", description = "validation batches (default: the run's eval_batches)")
    Integer batches;

    @Override
    public Integer call() throws Exception {
        Checkpoint checkpoint = Checkpoint.load(CheckpointArgument.resolve(checkpointPath));
        ConfigLoader loader = new ConfigLoader(checkpoint.config());
        if (data != null) {
            loader.set("data", data.toString());
        }
        if (batches != null) {
            loader.set("eval_batches", batches.toString());
        }
        TrainConfig config = loader.build();
        try (Device device = Devices.open(config.device())) {
            double loss = Evaluator.loss(ModelLoader.load(checkpoint, device), TrainingData.open(config), config);
            System.out.printf("step %d  eval loss %.4f  perplexity %s  (%d batches of %d x %d tokens)%n",
                    checkpoint.step(), loss, Perplexity.format(Math.exp(loss)), config.evalBatches(), config.batchSize(),
                    config.model().contextSize());
        }
        return 0;
    }
}
