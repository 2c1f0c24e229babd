package org.moe4j.train;

import org.moe4j.nn.ConfigCheck;
import org.moe4j.nn.ModelConfig;

/**
 * Everything a training run is made of. JSON config files and CLI flags use the snake_case form
 * of these names ({@code batch_size}, {@code model.width}); see {@link ConfigLoader}.
 *
 * @param model           model shape
 * @param steps           optimizer steps to train for
 * @param batchSize       sequences per step; each has {@code model.context_size} tokens
 * @param learningRate    peak learning rate, reached after warm-up
 * @param minLearningRate floor of the cosine decay
 * @param warmupSteps     linear warm-up from 0 to the peak
 * @param weightDecay     decoupled AdamW weight decay, applied to matrices and embeddings only
 * @param beta1           AdamW first-moment decay
 * @param beta2           AdamW second-moment decay
 * @param epsilon         AdamW denominator guard
 * @param gradClip        clip the global gradient norm to this; 0 disables clipping
 * @param seed            seeds the model initialisation, the data order and sampling
 * @param logEvery        steps between metrics lines
 * @param evalEvery       steps between held-out evaluations (and at the last step)
 * @param evalBatches     batches per evaluation
 * @param checkpointEvery steps between checkpoints (and at the last step); 0 means only the last
 * @param data            UTF-8 text file to train on; null for the built-in synthetic corpus
 * @param corpusBytes     size of the built-in corpus
 * @param device          device to run on: {@code jvm}, {@code opencl}, {@code opencl:N}, {@code cuda} or {@code cuda:N}
 * @param allReduceBucketMb with several ranks, dense gradients are summed in all-reduces of buckets
 *                        of up to this many megabytes (1 MB = 2^20 bytes), as PyTorch DDP's {@code bucket_cap_mb}
 * @param parallel        with several ranks: the {@code ep × dp} layout, optimizer sharding and the
 *                        all-to-all payload type ({@link ParallelConfig})
 * @param recompute       activation recomputation: each block keeps only its input for the backward
 *                        pass and runs its forward again there (same gradients, same routing; less
 *                        memory, one more forward of every block)
 */
public record TrainConfig(
        ModelConfig model,
        int steps,
        int batchSize,
        double learningRate,
        double minLearningRate,
        int warmupSteps,
        double weightDecay,
        double beta1,
        double beta2,
        double epsilon,
        double gradClip,
        long seed,
        int logEvery,
        int evalEvery,
        int evalBatches,
        int checkpointEvery,
        String data,
        int corpusBytes,
        String device,
        double allReduceBucketMb,
        ParallelConfig parallel,
        boolean recompute) {

    /** The defaults: the small MoE model (2 top-1 prototyping) on the built-in corpus, a few minutes on two cores. */
    public static final TrainConfig DEFAULT = new TrainConfig(ModelConfig.SMALL_MOE, 300, 16, 3e-3, 3e-4, 30, 0.1,
            0.9, 0.95, 1e-8, 1.0, 1337, 10, 100, 8, 100, null, 400_000, "jvm", 16, ParallelConfig.DEFAULT,
            false);

    public TrainConfig {
        if (model == null) {
            throw new IllegalArgumentException("model is missing");
        }
        ConfigCheck.atLeast("steps", steps, 1);
        ConfigCheck.atLeast("batch_size", batchSize, 1);
        ConfigCheck.positive("learning_rate", learningRate);
        ConfigCheck.inRange("min_learning_rate", minLearningRate, 0, learningRate);
        ConfigCheck.atLeast("warmup_steps", warmupSteps, 0);
        ConfigCheck.inRange("weight_decay", weightDecay, 0, 1);
        ConfigCheck.inRange("beta1", beta1, 0, 0.999999);
        ConfigCheck.inRange("beta2", beta2, 0, 0.999999);
        ConfigCheck.positive("epsilon", epsilon);
        ConfigCheck.inRange("grad_clip", gradClip, 0, Double.MAX_VALUE);
        ConfigCheck.atLeast("log_every", logEvery, 1);
        ConfigCheck.atLeast("eval_every", evalEvery, 1);
        ConfigCheck.atLeast("eval_batches", evalBatches, 1);
        ConfigCheck.atLeast("checkpoint_every", checkpointEvery, 0);
        ConfigCheck.atLeast("corpus_bytes", corpusBytes, 1024);
        ConfigCheck.inRange("all_reduce_bucket_mb", allReduceBucketMb, 1e-6, 1 << 20);
        if (device == null || device.isBlank()) {
            throw new IllegalArgumentException("device is missing: allowed values are " + Devices.NAMES);
        }
        if (parallel == null) {
            throw new IllegalArgumentException("parallel is missing");
        }
        if (model.moe() != null && parallel.ep() > 0 && model.moe().experts() % parallel.ep() != 0) {
            throw new IllegalArgumentException("parallel.ep=" + parallel.ep() + " does not divide moe.experts="
                    + model.moe().experts() + ": each rank of an expert-parallel group holds E/ep experts; choose a divisor of "
                    + model.moe().experts() + " (and of the world size), or 0 for the default");
        }
    }

    /** {@link #allReduceBucketMb} in floats, at least one. */
    public int allReduceBucketFloats() {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, allReduceBucketMb * (1 << 20) / Float.BYTES));
    }

    /** Tokens per optimizer step. */
    public int tokensPerStep() {
        return batchSize * model.contextSize();
    }
}
