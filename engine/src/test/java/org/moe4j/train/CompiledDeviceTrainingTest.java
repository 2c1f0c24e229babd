package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.cuda.CudaDriver;
import org.moe4j.kernels.opencl.OpenClDevice;
import org.moe4j.testing.Requirement;

/**
 * The whole training loop on the compiled devices, {@code opencl} and {@code cuda} (each skipped,
 * with the reason, where it is missing): the loss curve of a tiny model, dense or MoE with each
 * router, follows the JVM device's, and a run resumed from a checkpoint written on the device
 * (parameters and AdamW moments copied back from it) continues its curve exactly.
 */
class CompiledDeviceTrainingTest {
    /**
     * Largest |loss_device - loss_jvm| / loss_jvm allowed over 20 steps (relaxed math). PoCL measured
     * 9.7e-8 dense, 9.6e-8 MoE prototype, 9.2e-8 MoE top-2 SwiGLU, 0 MoE expert choice (one float
     * ulp of the loss at most).
     */
    static final double RELATIVE_TOLERANCE = 1e-6;

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    /** The default model (MoE, 2 prototypes) made tiny: 4 experts of hidden width 32. */
    private static final TrainConfig TINY = new ConfigLoader(TrainConfig.DEFAULT)
            .set("model.context_size", "16").set("model.layers", "2").set("model.heads", "2")
            .set("model.width", "16").set("model.hidden", "32").set("moe.experts", "4").set("moe.hidden", "32")
            .set("batch_size", "4").set("steps", "20")
            .set("warmup_steps", "2").set("log_every", "5").set("eval_every", "10").set("eval_batches", "2")
            .set("checkpoint_every", "10").set("corpus_bytes", "20000").build();

    /** Each compiled device with each tiny model: dense, and MoE with each router. */
    static Stream<Arguments> models() {
        return devices().flatMap(device -> tinyModels().map(m -> Arguments.of(device, m.get()[0], m.get()[1])));
    }

    static Stream<String> devices() {
        return Stream.of("opencl", "cuda");
    }

    private static Stream<Arguments> tinyModels() {
        return Stream.of(
                Arguments.of("dense", new ConfigLoader(TINY).set("model.moe", (String) null).build()),
                Arguments.of("moe prototype", TINY),
                Arguments.of("moe top-2 renormalized swiglu", new ConfigLoader(TINY).set("moe.router", "topk")
                        .set("moe.renormalize", "true").set("moe.expert", "swiglu").build()),
                Arguments.of("moe expert choice", new ConfigLoader(TINY).set("moe.router", "expert_choice").build()));
    }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void lossCurveFollowsTheJvmDevice(String deviceName, String name, TrainConfig config) throws IOException {
        requireDevice(deviceName);
        List<Float> jvm;
        try (Device device = Devices.open("jvm")) {
            jvm = train(config, device, dir.resolve("jvm"));
        }
        List<Float> compiled;
        try (Device device = Devices.open(deviceName);
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(dir.resolve(deviceName)), QUIET)) {
            Map<String, float[]> before = config.model().moe() == null ? null : ExpertLearning.snapshot(trainer.model());
            trainer.run();
            compiled = trainer.losses();
            if (before != null) {
                ExpertLearning.assertEveryExpertLearns(trainer.model(), before,
                        TrainingData.open(config).nextTrainBatch(config.batchSize(), config.model().contextSize()));
            }
        }
        assertEquals(config.steps(), compiled.size());
        double worst = 0;
        for (int i = 0; i < jvm.size(); i++) {
            worst = Math.max(worst, Math.abs(compiled.get(i) - jvm.get(i)) / jvm.get(i));
        }
        assertTrue(worst <= RELATIVE_TOLERANCE, name + ": relative loss difference " + worst + "\njvm    " + jvm + "\n"
                + deviceName + " " + compiled);
        assertTrue(compiled.get(19) < compiled.get(0) - 0.3, "loss did not fall on " + deviceName + ": " + compiled);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void resumingOnTheDeviceContinuesTheSameCurve(String deviceName) throws IOException {
        requireDevice(deviceName);
        TrainConfig config = new ConfigLoader(TINY).set("steps", "8").set("checkpoint_every", "4").build();
        try (Device device = Devices.open(deviceName)) {
            List<Float> full = train(config, device, dir.resolve("full"));
            RunDirectory run = RunDirectory.at(dir.resolve("split"));
            List<Float> resumed = new ArrayList<>();
            try (Trainer first = Trainer.start(config, device, run, QUIET)) {
                first.runUntil(4);
                resumed.addAll(first.losses());
            }
            try (Trainer second = Trainer.resume(Checkpoint.load(run.checkpoint()), device, run, QUIET)) {
                second.run();
                resumed.addAll(second.losses());
            }
            assertEquals(full, resumed);
        }
    }

    private static void requireDevice(String name) {
        if (name.equals("opencl")) {
            Requirement.assume("opencl", !OpenClDevice.list().isEmpty(), OpenClDevice.unavailableReason());
        } else {
            Requirement.assume("cuda", CudaDriver.available(), CudaDriver.unavailableReason());
        }
    }

    private static List<Float> train(TrainConfig config, Device device, Path runDir) throws IOException {
        try (Trainer trainer = Trainer.start(config, device, RunDirectory.at(runDir), QUIET)) {
            trainer.run();
            return trainer.losses();
        }
    }
}
