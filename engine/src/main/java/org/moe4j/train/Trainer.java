package org.moe4j.train;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.moe4j.data.Batch;
import org.moe4j.data.TokenDataset;
import org.moe4j.kernels.Device;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.moe.MoeLayer;
import org.moe4j.moe.RoutingStats;
import org.moe4j.nn.GptModel;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.metrics.MetricsLog;
import org.moe4j.train.metrics.ProgressBar;

/**
 * The training loop: sample a batch, forward, backward, clip, AdamW step; metrics every
 * {@code log_every} steps, held-out evaluation every {@code eval_every}, checkpoints every
 * {@code checkpoint_every} and at the end. At each metrics line the MoE layers' routing statistics
 * of that step go with it (see {@link RoutingSummary}). A run started from a checkpoint continues exactly
 * where the checkpoint was written: same parameters, moments, step and data order.
 *
 * <p>A loss that is not finite stops training with {@link TrainingDivergedException}; the last
 * checkpoint written before it is left as it was.
 *
 * <p>With {@link ExpertParallel} over W ranks, every rank runs this loop on its part of each global
 * batch ({@link DataParallel}); the losses, gradients and updates are those of one process training
 * on the global batch, up to float summation order. Only rank 0 prints, writes the config, the
 * metrics and the plot; checkpoints are sharded ({@link ShardedCheckpoint}).
 */
public final class Trainer {
    private final TrainConfig config;
    private final Device device;
    private final GptModel model;
    private final TokenDataset dataset;
    private final AdamWOptimizer optimizer;
    private final LearningRateSchedule schedule;
    private final RunDirectory run;
    private final PrintStream console;
    private final DataParallel parallel;
    private final boolean leader;
    private final List<Float> losses = new ArrayList<>();
    private int step;

    private Trainer(TrainConfig config, Device device, RunDirectory run, PrintStream console, ExpertParallel ep) {
        ExpertParallel sharded = ep != null && ep.worldSize() > 1 ? ep : null;
        if (sharded != null) {
            DataParallel.checkBatch(config, sharded.worldSize());
        }
        this.config = config;
        this.device = device;
        this.run = run;
        this.leader = sharded == null || sharded.rank() == 0;
        this.console = leader ? console : new PrintStream(OutputStream.nullOutputStream());
        this.model = new GptModel(config.model(), device, config.seed(), sharded);
        this.parallel = sharded == null ? null
                : new DataParallel(sharded, model.parameters(), model.expertParameterNames());
        this.dataset = TrainingData.open(config);
        this.optimizer = new AdamWOptimizer(device, model.parameters(), config);
        this.schedule = LearningRateSchedule.of(config);
    }

    /** A new run from freshly initialised parameters. */
    public static Trainer start(TrainConfig config, Device device, RunDirectory run, PrintStream console)
            throws IOException {
        return start(config, device, run, console, null);
    }

    /**
     * A new run whose experts are sharded over {@code parallel}'s ranks (null or W = 1: one process).
     * Every rank calls it with the same config.
     */
    public static Trainer start(TrainConfig config, Device device, RunDirectory run, PrintStream console,
                                ExpertParallel parallel) throws IOException {
        Trainer trainer = new Trainer(config, device, run, console, parallel);
        if (trainer.leader) {
            run.writeConfig(config);
        }
        return trainer;
    }

    /** Continues the run that wrote {@code checkpoint}; its config is the run's config. */
    public static Trainer resume(Checkpoint checkpoint, Device device, RunDirectory run, PrintStream console)
            throws IOException {
        return resume(checkpoint, device, run, console, null);
    }

    /**
     * As {@link #resume(Checkpoint, Device, RunDirectory, PrintStream)} over {@code parallel}'s ranks;
     * the checkpoint may come from a run with another number of ranks (its experts are re-split).
     */
    public static Trainer resume(Checkpoint checkpoint, Device device, RunDirectory run, PrintStream console,
                                 ExpertParallel parallel) throws IOException {
        Trainer trainer = new Trainer(checkpoint.config(), device, run, console, parallel);
        Checkpoint mine = trainer.parallel == null ? checkpoint
                : checkpoint.shardExperts(trainer.model.expertParameterNames(), trainer.parallel.rank(),
                        trainer.parallel.worldSize());
        mine.restoreParameters(trainer.model.parameters());
        mine.restoreOptimizer(trainer.optimizer, trainer.model.parameters());
        trainer.dataset.setRngState(checkpoint.dataRngState());
        trainer.step = checkpoint.step();
        return trainer;
    }

    /** Trains to the configured number of steps. */
    public void run() throws IOException {
        runUntil(config.steps());
    }

    /**
     * Trains until {@code lastStep} steps are done (at most the configured number), then writes a
     * checkpoint, the metrics and the loss plot.
     */
    public void runUntil(int lastStep) throws IOException {
        int stop = Math.min(lastStep, config.steps());
        ProgressBar progress = new ProgressBar(console, config.steps());
        try (MetricsLog metrics = leader ? new MetricsLog(run.path()) : null) {
            long windowStart = System.nanoTime();
            int windowSteps = 0;
            long[] windowBytes = bytesSent();
            while (step < stop) {
                double lr = schedule.at(step);
                StepResult result = trainStep(lr);
                step++;
                windowSteps++;
                losses.add(result.loss());
                boolean last = step == stop;
                boolean evaluate = step % config.evalEvery() == 0 || step == config.steps();
                boolean log = step % config.logEvery() == 0 || last || evaluate;
                double tokensPerSecond = windowSteps * (double) config.tokensPerStep()
                        / Math.max(1e-9, (System.nanoTime() - windowStart) / 1e9);
                if (log || progress.inPlace()) {
                    progress.update(step, result.loss(), lr, tokensPerSecond, RoutingSummary.shortForm(result.routing()));
                }
                if (log) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("step", step);
                    line.put("loss", result.loss());
                    line.put("lr", lr);
                    line.put("tokens_per_s", tokensPerSecond);
                    line.put("grad_norm", result.gradNorm());
                    if (parallel != null) {
                        long[] bytes = bytesSent();
                        line.put("all_to_all_bytes_per_step", (bytes[0] - windowBytes[0]) / windowSteps);
                        line.put("all_reduce_bytes_per_step", (bytes[1] - windowBytes[1]) / windowSteps);
                    }
                    RoutingSummary.addTo(line, result.routing());
                    if (evaluate) {
                        double evalLoss = parallel == null ? Evaluator.loss(model, dataset, config)
                                : evaluateSharded();
                        line.put("eval_loss", evalLoss);
                        line.put("eval_ppl", Math.exp(evalLoss));
                        progress.finish();
                        console.printf("step %d: eval loss %.4f, perplexity %.3f%n", step, evalLoss, Math.exp(evalLoss));
                    }
                    if (metrics != null) {
                        metrics.log(line);
                    }
                    windowStart = System.nanoTime();
                    windowSteps = 0;
                    windowBytes = bytesSent();
                }
                if (last || (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0)) {
                    saveCheckpoint();
                }
                exitIfAskedByTest();
            }
        }
        progress.finish();
        if (leader) {
            LossCurve.save(run);
        }
    }

    /**
     * Test hook for {@code moe launch --max-restarts}: with {@code MOE_TEST_EXIT_AT=RANK:STEP} in the
     * environment, that rank halts with status 3 right after that step (and its checkpoint, if one is
     * due), but only in the first attempt ({@code MOE_RESTART_COUNT} unset or 0), so a restarted
     * group runs through. Not meant for anything but tests.
     */
    private void exitIfAskedByTest() {
        String at = System.getenv("MOE_TEST_EXIT_AT");
        if (at == null || !"0".equals(System.getenv().getOrDefault("MOE_RESTART_COUNT", "0"))) {
            return;
        }
        String[] rankStep = at.split(":");
        int rank = parallel == null ? 0 : parallel.rank();
        if (rankStep.length == 2 && Integer.parseInt(rankStep[0].trim()) == rank
                && Integer.parseInt(rankStep[1].trim()) == step) {
            System.err.printf("MOE_TEST_EXIT_AT: rank %d exits after step %d%n", rank, step);
            System.err.flush();
            Runtime.getRuntime().halt(3);
        }
    }

    /** Losses of the steps this trainer ran, in order. */
    public List<Float> losses() {
        return List.copyOf(losses);
    }

    public GptModel model() {
        return model;
    }

    public int step() {
        return step;
    }

    /** Bytes this rank has sent in MoE all-to-alls and in gradient all-reduces; zeros for one process. */
    private long[] bytesSent() {
        return parallel == null ? new long[2]
                : new long[] {parallel.parallel().bytesSent(), parallel.allReduceBytes()};
    }

    /** The data parallelism of a sharded run, or null. */
    DataParallel dataParallel() {
        return parallel;
    }

    private StepResult trainStep(double lr) {
        if (parallel != null) {
            parallel.parallel().group().setStep(step + 1);
        }
        Batch batch = dataset.nextTrainBatch(config.batchSize(), config.model().contextSize());
        if (parallel != null) {
            batch = parallel.slice(batch);
        }
        Tape tape = Tape.training(device);
        Tensor loss = model.loss(tape, batch.inputs(), batch.targets(), batch.batchSize(),
                config.model().contextSize());
        float value = loss.toHost().data()[0];
        if (parallel != null) {
            // The mean over the global batch: every rank holds B/W sequences.
            value = (float) (parallel.sum(value) / parallel.worldSize());
        }
        if (!Float.isFinite(value)) {
            throw new TrainingDivergedException("loss is " + value + " at step " + (step + 1)
                    + "; training stopped, the last checkpoint in " + run.path() + " is kept");
        }
        Map<Integer, RoutingStats> routing = new LinkedHashMap<>();
        for (int i = 0; i < model.blocks().size(); i++) {
            if (model.blocks().get(i).feedForward() instanceof MoeLayer moe) {
                routing.put(i, moe.lastStats());
            }
        }
        double norm;
        if (parallel == null) {
            tape.backward(loss);
            norm = GradientClipper.clip(device, model.parameters().values(), config.gradClip());
        } else {
            tape.backward(loss, new float[] {1f / parallel.worldSize()});
            parallel.allReduceDenseGradients(device);
            norm = parallel.clip(device, config.gradClip());
        }
        optimizer.step(lr);
        optimizer.zeroGrad();
        return new StepResult(value, norm, routing);
    }

    private void saveCheckpoint() throws IOException {
        Files.createDirectories(run.path());
        if (parallel == null) {
            Checkpoint.save(run.checkpoint(), config, step, dataset.rngState(), model.parameters(), optimizer);
        } else {
            ShardedCheckpoint.save(run.path(), parallel.parallel().group(), config, step, dataset.rngState(),
                    model.parameters(), model.expertParameterNames(), optimizer);
        }
    }

    /** {@link Evaluator#loss} over the ranks: each evaluates its rows of every validation batch. */
    private double evaluateSharded() {
        int length = config.model().contextSize();
        List<Batch> batches = dataset.validationBatches(config.batchSize(), length, config.evalBatches());
        double sum = 0;
        for (Batch batch : batches) {
            Batch mine = parallel.slice(batch);
            Tape tape = Tape.inference(device);
            float local = model.loss(tape, mine.inputs(), mine.targets(), mine.batchSize(), length).toHost().data()[0];
            sum += (float) (parallel.sum(local) / parallel.worldSize());
        }
        return sum / batches.size();
    }

    /** @param routing routing statistics of the step's MoE layers by block index */
    private record StepResult(float loss, double gradNorm, Map<Integer, RoutingStats> routing) {
    }
}
