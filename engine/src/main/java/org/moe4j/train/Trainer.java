package org.moe4j.train;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.moe4j.data.Batch;
import org.moe4j.data.TokenDataset;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Fp32Peak;
import org.moe4j.kernels.JvmDevice;
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
 * <p>A trainer holds its run directory's lock ({@link RunLock}) from start to {@link #close()}.
 * {@link StepListener}s run after every step; {@link #requestStop()} (from a listener, a signal
 * handler, another thread) ends the run after the current step with a checkpoint.
 *
 * <p>A loss that is not finite stops training with {@link TrainingDivergedException}; the last
 * checkpoint written before it is left as it was, and the message says which one that is.
 *
 * <p>Over W ranks, every rank runs this loop on its part of each global batch ({@link DataParallel}),
 * laid out {@code ep × dp} as {@code parallel} in the config says ({@link ExpertParallel}), with
 * its optimizer state sharded ({@link ShardedOptimizer}) when it asks; the losses, gradients and
 * updates are those of one process training on the global batch, up to float summation order. Only
 * rank 0 prints, writes the config, the metrics and the plot; checkpoints are sharded
 * ({@link ShardedCheckpoint}). A stop requested on any rank stops every rank after the same step.
 */
public final class Trainer implements AutoCloseable {
    private final TrainConfig config;
    private final Device device;
    /** {@link ModelFlops#perTrainedToken} of the model. */
    private final double flopsPerToken;
    private final GptModel model;
    private final TokenDataset dataset;
    /** Null when the optimizer state is sharded. */
    private final AdamWOptimizer optimizer;
    /** Null unless {@code parallel.shard_optimizer} over several ranks. */
    private final ShardedOptimizer sharded;
    private final LearningRateSchedule schedule;
    private final RunDirectory run;
    private final PrintStream console;
    private final DataParallel parallel;
    private final boolean leader;
    private final List<Float> losses = new ArrayList<>();
    private final List<StepListener> listeners = new ArrayList<>();
    private volatile boolean stopRequested;
    private boolean stopped;
    private int step;
    /** The last checkpoint written or resumed from, and its step; null before there is one. */
    private Path lastCheckpoint;
    private int lastCheckpointStep;
    private RunLock lock;

    private Trainer(TrainConfig config, Device device, RunDirectory run, PrintStream console, ExpertParallel ranks) {
        ExpertParallel layout = ranks == null || ranks.worldSize() == 1 ? null
                : ExpertParallel.of(ranks.group(), config.parallel().ep(),
                        config.model().moe() == null ? 0 : config.model().moe().experts(), config.parallel().bf16());
        // Before anything is allocated: a batch that splits over the ranks, no tensor over Java's array
        // limit, and the plan within this JVM's heap.
        ScalePlan.checkBeforeTraining(config, layout == null ? 1 : layout.worldSize(), Runtime.getRuntime().maxMemory());
        this.config = config;
        this.device = device;
        this.run = run;
        this.leader = layout == null || layout.rank() == 0;
        this.console = leader ? console : new PrintStream(OutputStream.nullOutputStream());
        this.model = new GptModel(config.model(), device, config.seed(), layout);
        model.setRecompute(config.recompute());
        this.flopsPerToken = ModelFlops.perTrainedToken(config.model(), model.parameters());
        this.parallel = layout == null ? null
                : new DataParallel(layout, model.parameters(), model.expertParameterNames(),
                        config.allReduceBucketFloats());
        this.dataset = TrainingData.open(config);
        dataset.warnings().forEach(w -> this.console.println("warning: " + w));
        this.sharded = parallel != null && config.parallel().shardOptimizer()
                ? new ShardedOptimizer(device, parallel, model.parameters(), model.expertParameterNames(), config)
                : null;
        this.optimizer = sharded == null ? new AdamWOptimizer(device, model.parameters(), config) : null;
        this.schedule = LearningRateSchedule.of(config);
    }

    /** A new run from freshly initialised parameters. */
    public static Trainer start(TrainConfig config, Device device, RunDirectory run, PrintStream console)
            throws IOException {
        return start(config, device, run, console, null);
    }

    /**
     * A new run over {@code parallel}'s ranks (null or W = 1: one process), laid out as
     * {@code config.parallel()} says (its {@code ep}, not {@code parallel}'s). Every rank calls it
     * with the same config.
     *
     * @throws IllegalArgumentException for a layout that does not divide, naming the numbers
     */
    public static Trainer start(TrainConfig config, Device device, RunDirectory run, PrintStream console,
                                ExpertParallel parallel) throws IOException {
        Trainer trainer = new Trainer(config, device, run, console, parallel);
        trainer.claimRunDirectory();
        return trainer;
    }

    /** Continues the run that wrote {@code checkpoint} with its own config. */
    public static Trainer resume(Checkpoint checkpoint, Device device, RunDirectory run, PrintStream console)
            throws IOException {
        return resume(checkpoint, checkpoint.config(), device, run, console, null);
    }

    /**
     * Continues the run that wrote {@code checkpoint} over {@code parallel}'s ranks (null: one
     * process), with {@code config}: the checkpoint's config, changed at most where
     * {@link ResumeConfig} allows (more steps, another device, other logging intervals). The
     * checkpoint may come from a run with another number of ranks or another layout (its experts are
     * re-split, its moments re-sliced). The
     * run directory's metrics are cut back to the checkpoint's step, so a step replayed after a
     * crash is logged once.
     *
     * @throws IllegalArgumentException naming a field that cannot change on resume
     */
    public static Trainer resume(Checkpoint checkpoint, TrainConfig config, Device device, RunDirectory run,
                                 PrintStream console, ExpertParallel parallel) throws IOException {
        ResumeConfig.check(checkpoint.config(), config);
        Trainer trainer = new Trainer(config, device, run, console, parallel);
        ExpertParallel layout = trainer.parallel == null ? null : trainer.parallel.parallel();
        Checkpoint mine = layout == null ? checkpoint
                : checkpoint.shardExperts(trainer.model.expertParameterNames(), layout.expertRank(),
                        layout.expertRanks());
        mine.restoreParameters(trainer.model.parameters());
        mine.restoreBuffers(trainer.model.buffers());
        if (trainer.sharded != null) {
            trainer.sharded.restore(mine);
        } else {
            mine.restoreOptimizer(trainer.optimizer, trainer.model.parameters());
        }
        trainer.dataset.setRngState(checkpoint.dataRngState());
        trainer.model.restoreJitterStates(checkpoint.jitterStates());
        trainer.step = checkpoint.step();
        trainer.lastCheckpoint = checkpoint.path();
        trainer.lastCheckpointStep = checkpoint.step();
        trainer.claimRunDirectory();
        if (trainer.leader && Files.isRegularFile(run.metrics())) {
            MetricsLog.keepUpToStep(run.metrics(), checkpoint.step());
        }
        return trainer;
    }

    /** Rank 0 creates and locks the run directory and writes the config into it. */
    private void claimRunDirectory() throws IOException {
        if (leader) {
            lock = run.claim(console);
            run.writeConfig(config);
        }
    }

    /** Adds a listener called after every step, in the order added. */
    public void addStepListener(StepListener listener) {
        listeners.add(listener);
    }

    /**
     * Asks the run to stop after the current step, with a checkpoint; {@link #run()} then returns
     * and {@link #stopped()} is true. Safe to call from any thread, a shutdown hook included.
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** Whether the last {@link #runUntil} ended early, at a {@link #requestStop()}. */
    public boolean stopped() {
        return stopped;
    }

    /** Releases the run directory. */
    @Override
    public void close() {
        if (lock != null) {
            lock.close();
            lock = null;
        }
    }

    /** Trains to the configured number of steps. */
    public void run() throws IOException {
        runUntil(config.steps());
    }

    /**
     * Trains until {@code lastStep} steps are done (at most the configured number), then writes a
     * checkpoint, the metrics and the loss plot. Ends earlier, with a checkpoint, when a stop is
     * requested.
     */
    public void runUntil(int lastStep) throws IOException {
        int stop = Math.min(lastStep, config.steps());
        stopped = false;
        ProgressBar progress = new ProgressBar(console, config.steps());
        double peak = peakFlops();
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
                double mfu = tokensPerSecond * flopsPerToken / peak;
                if (log || progress.inPlace()) {
                    String routing = RoutingSummary.shortForm(result.routing());
                    String utilisation = Double.isFinite(mfu) ? String.format(Locale.ROOT, "mfu %.0f%%", 100 * mfu) : "";
                    progress.update(step, result.loss(), lr, tokensPerSecond,
                            String.join(" ", routing, utilisation).strip());
                }
                if (log) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("step", step);
                    line.put("loss", result.loss());
                    line.put("lr", lr);
                    line.put("tokens_per_s", tokensPerSecond);
                    line.put("model_flops_per_token", flopsPerToken);
                    if (Double.isFinite(mfu)) {
                        line.put("mfu", mfu);
                    }
                    line.put("grad_norm", result.gradNorm());
                    if (parallel != null) {
                        long[] bytes = bytesSent();
                        line.put("all_to_all_bytes_per_step", (bytes[0] - windowBytes[0]) / windowSteps);
                        line.put("all_reduce_bytes_per_step", (bytes[1] - windowBytes[1]) / windowSteps);
                        line.put("all_to_all_ms_per_step", (bytes[2] - windowBytes[2]) / 1e6 / windowSteps);
                    }
                    RoutingSummary.addTo(line, result.routing());
                    if (evaluate) {
                        double evalLoss = parallel == null ? Evaluator.loss(model, dataset, config)
                                : evaluateSharded();
                        line.put("eval_loss", evalLoss);
                        line.put("eval_ppl", Math.exp(evalLoss));
                        progress.finish();
                        console.printf("step %d: eval loss %.4f, perplexity %s%n", step, evalLoss,
                                Perplexity.format(Math.exp(evalLoss)));
                    }
                    if (metrics != null) {
                        metrics.log(line);
                    }
                    windowStart = System.nanoTime();
                    windowSteps = 0;
                    windowBytes = bytesSent();
                }
                boolean checkpointed = last || (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0);
                if (checkpointed) {
                    saveCheckpoint();
                }
                for (StepListener listener : listeners) {
                    listener.afterStep(this, result.loss());
                }
                if (parallel != null) {
                    // What follows decides on the next step: a rank lost now is named as lost in it,
                    // after this step's checkpoint, not in this step.
                    parallel.parallel().group().setStep(step + 1);
                }
                if (!last && (parallel == null ? stopRequested : parallel.anyRank(stopRequested))) {
                    if (!checkpointed) {
                        saveCheckpoint();
                    }
                    stopped = true;
                    break;
                }
            }
        }
        progress.finish();
        if (leader) {
            LossCurve.save(run);
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

    /**
     * The measured FP32 peak of the device ({@link Fp32Peak}), or NaN where there is none to compare
     * with: another device, or several processes, whose measurements would see each other's load.
     */
    private double peakFlops() {
        return leader && parallel == null && device instanceof JvmDevice jvm ? Fp32Peak.flopsPerSecond(jvm.threads())
                : Double.NaN;
    }

    /**
     * Bytes this rank has sent in MoE all-to-alls and in gradient all-reduces, and nanoseconds spent in
     * the token all-to-alls; zeros for one process.
     */
    private long[] bytesSent() {
        return parallel == null ? new long[3]
                : new long[] {parallel.parallel().bytesSent(), parallel.allReduceBytes(),
                    parallel.parallel().exchangeNanos()};
    }

    /** The data parallelism of a sharded run, or null. */
    DataParallel dataParallel() {
        return parallel;
    }

    /** The optimizer of every parameter; null when its state is sharded. */
    AdamWOptimizer optimizer() {
        return optimizer;
    }

    /** The sharded optimizer, or null. */
    ShardedOptimizer shardedOptimizer() {
        return sharded;
    }

    /** The layout of a run over several ranks ({@code ep × dp}), or null for one process. */
    public ExpertParallel layout() {
        return parallel == null ? null : parallel.parallel();
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
            throw new TrainingDivergedException("loss is " + value + " at step " + (step + 1) + "; training stopped, "
                    + keptCheckpoint());
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
            optimizer.step(lr);
        } else {
            tape.backward(loss, new float[] {1f / parallel.worldSize()});
            if (sharded != null) {
                norm = sharded.step(lr, config.gradClip());
            } else {
                parallel.allReduceGradients(device);
                norm = parallel.clip(device, config.gradClip());
                optimizer.step(lr);
            }
        }
        model.parameters().values().forEach(Tensor::zeroGrad);
        model.moeLayers().forEach(MoeLayer::updateBalanceBias);
        return new StepResult(value, norm, routing);
    }

    private void saveCheckpoint() throws IOException {
        Path file = parallel == null ? run.checkpoint() : run.manifest();
        try {
            if (parallel == null) {
                Checkpoint.save(file, config, step, dataset.rngState(), model.jitterStates(), model.parameters(),
                        model.buffers(), optimizer);
            } else {
                ShardedCheckpoint.save(run.path(), parallel.parallel(), config, step, dataset.rngState(),
                        model.jitterStates(), model.parameters(), model.buffers(), model.expertParameterNames(),
                        optimizer, sharded, () -> {
                            for (StepListener listener : listeners) {
                                listener.shardWritten(this);
                            }
                        });
            }
        } catch (IOException e) {
            throw new IOException("cannot write the checkpoint of step " + step + " to " + file + ": " + e.getMessage()
                    + " (it needs about " + megabytes(checkpointBytes()) + " MB, " + megabytes(usableSpace())
                    + " MB are free there); training stopped, " + keptCheckpoint(), e);
        }
        lastCheckpoint = file;
        lastCheckpointStep = step;
    }

    /** What a failed run leaves to resume from, in words. */
    private String keptCheckpoint() {
        return lastCheckpoint == null
                ? "and no checkpoint was written yet (checkpoint_every=" + config.checkpointEvery() + ")"
                : "the checkpoint of step " + lastCheckpointStep + " (" + lastCheckpoint + ") is kept";
    }

    /** Bytes of this rank's checkpoint files: every parameter and its two AdamW moments as float32. */
    private long checkpointBytes() {
        return 3L * Float.BYTES * model.parameters().values().stream().mapToLong(Tensor::size).sum();
    }

    private long usableSpace() {
        try {
            return Files.getFileStore(run.path()).getUsableSpace();
        } catch (IOException e) {
            return 0;
        }
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
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
