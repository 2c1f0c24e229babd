package org.moe4j.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.moe4j.distributed.ProcessGroup;
import org.moe4j.distributed.RendezvousConfig;
import org.moe4j.kernels.Device;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.moe.MoeConfig;
import org.moe4j.moe.ParameterCounts;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.ShardedCheckpoint;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model. With no options: the default small MoE model (8 experts, 2 top-1",
                "prototyping) on the built-in corpus. --set model.moe=null trains the dense model.",
                "Config comes from the defaults, then --config, then --set and the flags below.",
                "Under a launcher (moe launch, torchrun, srun, mpirun: RANK/WORLD_SIZE and the like in the",
                "environment) the ranks join one process group and shard the experts (docs/distributed.md)."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "JSON config file (snake_case fields)")
    Path configFile;

    @Option(names = "--set", paramLabel = "FIELD=VALUE", description = "set any config field, e.g. model.width=256")
    Map<String, String> sets = new LinkedHashMap<>();

    @Option(names = "--steps", description = "optimizer steps")
    Integer steps;

    @Option(names = "--seed", description = "seed of initialisation and data order")
    Long seed;

    @Option(names = "--data", paramLabel = "FILE", description = "UTF-8 text file to train on instead of the built-in corpus")
    Path data;

    @Option(names = "--device", description = "device to run on: jvm, opencl, opencl:N, cuda or cuda:N (see moe devices); under a launcher,"
                    + " opencl and cuda without N are the device of the local rank")
    String device;

    @Option(names = "--batch-size", description = "sequences per step")
    Integer batchSize;

    @Option(names = "--lr", description = "peak learning rate")
    Double learningRate;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "run directory (default: runs/<date-time>)")
    Path runDir;

    @Option(names = "--router", description = "MoE router: topk, prototype, switch or expert_choice (moe.router)")
    String router;

    @Option(names = "--k", description = "experts per token: top-k's k, or the number of prototypes (moe.k)")
    Integer k;

    @Option(names = "--experts", description = "experts per MoE layer (moe.experts)")
    Integer experts;

    @Option(names = "--expert", paramLabel = "gelu|swiglu|CLASS",
            description = "expert type, or the class name of a custom expert (moe.expert)")
    String expert;

    @Option(names = "--capacity-factor", description = "expert capacity factor in training (moe.capacity_factor)")
    Double capacityFactor;

    @Option(names = "--resume", paramLabel = "CHECKPOINT",
            description = "continue from a checkpoint file or run directory (its config is used)")
    Path resume;

    @Override
    public Integer call() throws Exception {
        Map<String, String> env = System.getenv();
        if (!RendezvousConfig.hasLaunchEnvironment(env)) {
            return train(null, Devices.NO_LAUNCHER);
        }
        // Started by moe launch, torchrun, srun, mpirun or by hand: join the other ranks.
        RendezvousConfig rendezvous = RendezvousConfig.fromEnvironment(env);
        try (ProcessGroup group = ProcessGroup.join(rendezvous, RENDEZVOUS_TIMEOUT)) {
            return train(new ExpertParallel(group), rendezvous.localRank());
        }
    }

    /** How long the ranks wait for each other to start. */
    private static final Duration RENDEZVOUS_TIMEOUT = Duration.ofMinutes(5);

    /** @param localRank this process's rank on its node: {@code --device cuda} is that GPU */
    private Integer train(ExpertParallel parallel, int localRank) throws Exception {
        boolean leader = parallel == null || parallel.rank() == 0;
        PrintStream out = leader ? System.out : new PrintStream(OutputStream.nullOutputStream());
        if (resume != null) {
            Path file = CheckpointArgument.resolve(resume);
            Checkpoint checkpoint = Checkpoint.load(file);
            RunDirectory run = runDir != null ? RunDirectory.at(runDir) : new RunDirectory(file.toAbsolutePath().getParent());
            try (Device dev = Devices.open(checkpoint.config().device(), localRank)) {
                out.printf("resuming %s at step %d%s%n", file, checkpoint.step(), ranks(parallel));
                Trainer.resume(checkpoint, dev, run, System.out, parallel).run();
            }
            return 0;
        }
        TrainConfig config = config();
        RunDirectory run = runDir != null ? RunDirectory.at(runDir) : sharedRunDirectory(parallel);
        try (Device dev = Devices.open(config.device(), localRank)) {
            Trainer trainer = Trainer.start(config, dev, run, System.out, parallel);
            Map<String, Long> sizes = new LinkedHashMap<>();
            trainer.model().parameters().forEach((name, p) -> sizes.put(name, (long) p.size()));
            ParameterCounts counts = ParameterCounts.of(sizes, config.model().moe());
            out.printf("run %s: %d steps, %,d parameters (%,d active per token), %d tokens/step on %s%s%n",
                    run.path(), config.steps(), counts.total(), counts.active(), config.tokensPerStep(), dev.name(),
                    ranks(parallel));
            if (config.model().moe() != null) {
                MoeConfig moe = config.model().moe();
                out.printf("moe: router %s, %d experts (%s, hidden %d), k %d, capacity factor %s%n",
                        moe.router(), moe.experts(), moe.expert(), moe.hidden(), moe.k(), moe.capacityFactor());
            }
            trainer.run();
        }
        out.printf("done: metrics %s, plot %s, checkpoint %s%n", run.metrics(), run.lossPlot(),
                parallel == null ? run.checkpoint() : run.path().resolve(ShardedCheckpoint.MANIFEST));
        return 0;
    }

    private static String ranks(ExpertParallel parallel) {
        return parallel == null ? "" : String.format(" x %d ranks (experts sharded, dense data-parallel)",
                parallel.worldSize());
    }

    /** A new run directory named by rank 0 and used by every rank. */
    private static RunDirectory sharedRunDirectory(ExpertParallel parallel) throws IOException {
        if (parallel == null) {
            return RunDirectory.create(RunDirectory.RUNS);
        }
        ProcessGroup group = parallel.group();
        String name = group.rank() == 0 ? RunDirectory.create(RunDirectory.RUNS).path().toString() : "";
        int length = (int) group.allGather(name.length())[0];
        float[] chars = new float[length];
        for (int i = 0; i < name.length(); i++) {
            chars[i] = name.charAt(i);
        }
        group.broadcast(chars, 0);
        StringBuilder shared = new StringBuilder();
        for (float c : chars) {
            shared.append((char) c);
        }
        return RunDirectory.at(Path.of(shared.toString()));
    }

    TrainConfig config() {
        ConfigLoader loader = new ConfigLoader(TrainConfig.DEFAULT);
        if (configFile != null) {
            loader.file(configFile);
        }
        sets.forEach(loader::set);
        if (steps != null) {
            loader.set("steps", steps.toString());
        }
        if (seed != null) {
            loader.set("seed", seed.toString());
        }
        if (data != null) {
            loader.set("data", data.toString());
        }
        if (device != null) {
            loader.set("device", device);
        }
        if (batchSize != null) {
            loader.set("batch_size", batchSize.toString());
        }
        if (learningRate != null) {
            loader.set("learning_rate", learningRate.toString());
        }
        if (router != null) {
            loader.set("model.moe.router", router);
        }
        if (k != null) {
            loader.set("model.moe.k", k.toString());
        }
        if (experts != null) {
            loader.set("model.moe.experts", experts.toString());
        }
        if (expert != null) {
            loader.set("model.moe.expert", expert);
        }
        if (capacityFactor != null) {
            loader.set("model.moe.capacity_factor", capacityFactor.toString());
        }
        return loader.build();
    }
}
