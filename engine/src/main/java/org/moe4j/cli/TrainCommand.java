package org.moe4j.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
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
import org.moe4j.train.StepListener;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model: by default the small MoE model (8 experts, 2 top-1 prototyping) on the built-in corpus.",
                "--set model.moe=null trains the dense model. Config comes from the defaults, then --config, then",
                "--set and the flags below. --resume continues a run: more --steps extend it, --device and the",
                "logging intervals may change, any other option must match the checkpoint's run (else it is refused).",
                "SIGINT or SIGTERM stops after the current step with a checkpoint (exit status 130 or 143).",
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
        Checkpoint checkpoint = resume == null ? null : Checkpoint.load(CheckpointArgument.resolve(resume));
        TrainConfig config = checkpoint == null ? config() : resumedConfig(checkpoint);
        RunDirectory run = runDir != null ? RunDirectory.at(runDir)
                : checkpoint != null ? RunDirectory.at(checkpoint.path().toAbsolutePath().getParent())
                : sharedRunDirectory(parallel);
        try (Device dev = Devices.open(config.device(), localRank);
             Trainer trainer = checkpoint == null ? Trainer.start(config, dev, run, System.out, parallel)
                     : Trainer.resume(checkpoint, config, dev, run, System.out, parallel)) {
            ServiceLoader.load(StepListener.class).forEach(trainer::addStepListener);
            if (checkpoint != null) {
                out.printf("resuming %s at step %d of %d%s%n", checkpoint.path(), checkpoint.step(), config.steps(),
                        ranks(trainer.layout(), config));
            } else {
                printStart(out, trainer, config, run, dev);
            }
            StopOnSignal.run(() -> {
                // Closed here too (closing twice is harmless): a signal's exit follows this body at once.
                try {
                    trainer.run();
                } finally {
                    trainer.close();
                }
                Path written = parallel == null ? run.checkpoint() : run.manifest();
                if (trainer.stopped()) {
                    out.printf("stopped after step %d of %d: checkpoint %s; continue with: moe train --resume %s%n",
                            trainer.step(), config.steps(), written, run.path());
                } else {
                    out.printf("done: metrics %s, plot %s, checkpoint %s%n", run.metrics(), run.lossPlot(), written);
                }
            }, trainer::requestStop);
        }
        return 0;
    }

    private static void printStart(PrintStream out, Trainer trainer, TrainConfig config, RunDirectory run, Device dev) {
        Map<String, Long> sizes = new LinkedHashMap<>();
        trainer.model().parameters().forEach((name, p) -> sizes.put(name, (long) p.size()));
        ParameterCounts counts = ParameterCounts.of(sizes, config.model().moe());
        out.printf("run %s: %d steps, %,d parameters (%,d active per token), %d tokens/step on %s%s%n",
                run.path(), config.steps(), counts.total(), counts.active(), config.tokensPerStep(), dev.name(),
                ranks(trainer.layout(), config));
        if (config.model().moe() != null) {
            MoeConfig moe = config.model().moe();
            out.printf("moe: router %s, %d experts (%s, hidden %d), k %d, capacity factor %s%n",
                    moe.router(), moe.experts(), moe.expert(), moe.hidden(), moe.k(), moe.capacityFactor());
        }
    }

    /**
     * The checkpoint's config with this command's options applied; {@link Trainer#resume} refuses
     * any change but those {@link org.moe4j.train.ResumeConfig} allows.
     */
    private TrainConfig resumedConfig(Checkpoint checkpoint) {
        TrainConfig config = apply(new ConfigLoader(checkpoint.config())).build();
        if (config.steps() <= checkpoint.step()) {
            throw new IllegalArgumentException("--resume: the checkpoint " + checkpoint.path() + " is at step "
                    + checkpoint.step() + " and the run has steps=" + config.steps() + ", so there is nothing to"
                    + " train; --steps N with N > " + checkpoint.step() + " extends the run");
        }
        return config;
    }

    /** The layout in words, e.g. " x 4 ranks (ep 2 × dp 2: ...)"; empty for one process. */
    private static String ranks(ExpertParallel layout, TrainConfig config) {
        if (layout == null) {
            return "";
        }
        return String.format(" x %d ranks (ep %d × dp %d: experts sharded over %d ranks, %d copies; dense data-parallel%s%s)",
                layout.worldSize(), layout.expertRanks(), layout.replicas(), layout.expertRanks(), layout.replicas(),
                config.parallel().shardOptimizer() ? "; optimizer state sharded" : "",
                layout.bf16() ? "; bf16 all-to-all" : "");
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
        return apply(new ConfigLoader(TrainConfig.DEFAULT)).build();
    }

    /** This command's --config, --set and flags over what {@code loader} holds. */
    private ConfigLoader apply(ConfigLoader loader) {
        if (configFile != null) {
            loader.file(configFile);
        }
        sets.forEach(loader::set);
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("steps", steps);
        flags.put("seed", seed);
        flags.put("data", data);
        flags.put("device", device);
        flags.put("batch_size", batchSize);
        flags.put("learning_rate", learningRate);
        flags.put("model.moe.router", router);
        flags.put("model.moe.k", k);
        flags.put("model.moe.experts", experts);
        flags.put("model.moe.expert", expert);
        flags.put("model.moe.capacity_factor", capacityFactor);
        flags.forEach((field, value) -> {
            if (value != null) {
                loader.set(field, value.toString());
            }
        });
        return loader;
    }
}
