package org.moe4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.moe4j.data.Batch;
import org.moe4j.data.TokenDataset;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.nn.GptModel;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.AdamWOptimizer;
import org.moe4j.train.GradientClipper;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.TrainingData;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One optimizer step of the default training run ({@link TrainConfig#DEFAULT}: the small MoE-GPT,
 * 4 blocks of width 128, 8 GELU experts of hidden 256 in 2 top-1 prototyping, batch 16 x 64
 * tokens, AdamW, gradient clipping at 1.0), as {@code Trainer} does it: next batch, forward,
 * loss to the host, backward, clip, AdamW step, zero the gradients. The learning rate is held at
 * the peak. {@code benchmarks/reference/train_step_bench.py} is the same step in PyTorch.
 * Secondary result {@code tokens}: tokens/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xss8m", "-Xms2g", "-Xmx2g", "-XX:+UseParallelGC", "-XX:+UseTransparentHugePages"})
public class TrainStepBench {
    private TrainConfig config;
    private JvmDevice device;
    private GptModel model;
    private TokenDataset dataset;
    private AdamWOptimizer optimizer;

    @Setup(Level.Trial)
    public void setUp() {
        config = TrainConfig.DEFAULT;
        device = BenchDevice.withOverrides();
        model = new GptModel(config.model(), device, config.seed());
        dataset = TrainingData.open(config);
        optimizer = new AdamWOptimizer(device, model.parameters(), config);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }

    @Benchmark
    public void step(Tokens counters, Blackhole blackhole) {
        int batchSize = config.batchSize();
        int length = config.model().contextSize();
        Batch batch = dataset.nextTrainBatch(batchSize, length);
        Tape tape = Tape.training(device);
        Tensor loss = model.loss(tape, batch.inputs(), batch.targets(), batchSize, length);
        blackhole.consume(loss.toHost().data()[0]);
        tape.backward(loss);
        blackhole.consume(GradientClipper.clip(device, model.parameters().values(), config.gradClip()));
        optimizer.step(config.learningRate());
        optimizer.zeroGrad();
        counters.tokens += (double) batchSize * length;
    }
}
