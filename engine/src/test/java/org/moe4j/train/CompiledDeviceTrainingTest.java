package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.opencl.OpenClDevice;

/**
 * The whole training loop on OpenCL: the loss curve of a tiny model, dense or MoE with each router,
 * follows the JVM device's, and a run resumed from a checkpoint written on OpenCL (parameters and
 * AdamW moments copied back from the device) continues its curve exactly.
 */
class OpenClTrainingTest {
    /**
     * Largest |loss_opencl - loss_jvm| / loss_jvm allowed over 20 steps (relaxed math). PoCL measured
     * 9.7e-8 dense, 9.6e-8 MoE prototype, 9.2e-8 MoE top-2 SwiGLU, 0 MoE expert choice (one float
     * ulp of the loss at most).
     */
    static final double RELATIVE_TOLERANCE = 1e-5;

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    /** The default model (MoE, 2 prototypes) made tiny: 4 experts of hidden width 32. */
    private static final TrainConfig TINY = new ConfigLoader(TrainConfig.DEFAULT)
            .set("model.context_size", "16").set("model.layers", "2").set("model.heads", "2")
            .set("model.width", "16").set("model.hidden", "32").set("moe.experts", "4").set("moe.hidden", "32")
            .set("batch_size", "4").set("steps", "20")
            .set("warmup_steps", "2").set("log_every", "5").set("eval_every", "10").set("eval_batches", "2")
            .set("checkpoint_every", "10").set("corpus_bytes", "20000").build();

    /** The tiny models of {@link #lossCurveFollowsTheJvmDevice}: dense, and MoE with each router. */
    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("dense", new ConfigLoader(TINY).set("model.moe", (String) null).build()),
                Arguments.of("moe prototype", TINY),
                Arguments.of("moe top-2 renormalized swiglu", new ConfigLoader(TINY).set("moe.router", "topk")
                        .set("moe.renormalize", "true").set("moe.expert", "swiglu").build()),
                Arguments.of("moe expert choice", new ConfigLoader(TINY).set("moe.router", "expert_choice").build()));
    }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void lossCurveFollowsTheJvmDevice(String name, TrainConfig config) throws IOException {
        assumeTrue(!OpenClDevice.list().isEmpty(), () -> "OpenCL tests skipped: " + OpenClDevice.unavailableReason());
        List<Float> jvm;
        try (Device device = Devices.open("jvm")) {
            jvm = train(config, device, dir.resolve("jvm"));
        }
        List<Float> opencl;
        try (Device device = Devices.open("opencl")) {
            opencl = train(config, device, dir.resolve("opencl"));
        }
        assertEquals(config.steps(), opencl.size());
        double worst = 0;
        for (int i = 0; i < jvm.size(); i++) {
            worst = Math.max(worst, Math.abs(opencl.get(i) - jvm.get(i)) / jvm.get(i));
        }
        assertTrue(worst <= RELATIVE_TOLERANCE, name + ": relative loss difference " + worst + "\njvm    " + jvm + "\nopencl " + opencl);
        assertTrue(opencl.get(19) < opencl.get(0) - 0.3, "loss did not fall on OpenCL: " + opencl);
    }

    @Test
    void resumingOnOpenClContinuesTheSameCurve() throws IOException {
        assumeTrue(!OpenClDevice.list().isEmpty(), () -> "OpenCL tests skipped: " + OpenClDevice.unavailableReason());
        TrainConfig config = new ConfigLoader(TINY).set("steps", "8").set("checkpoint_every", "4").build();
        try (Device device = Devices.open("opencl")) {
            Trainer full = Trainer.start(config, device, RunDirectory.at(dir.resolve("full")), QUIET);
            full.run();
            RunDirectory run = RunDirectory.at(dir.resolve("split"));
            Trainer first = Trainer.start(config, device, run, QUIET);
            first.runUntil(4);
            Trainer second = Trainer.resume(Checkpoint.load(run.checkpoint()), device, run, QUIET);
            second.run();
            List<Float> resumed = new ArrayList<>(first.losses());
            resumed.addAll(second.losses());
            assertEquals(full.losses(), resumed);
        }
    }

    private static List<Float> train(TrainConfig config, Device device, Path runDir) throws IOException {
        Trainer trainer = Trainer.start(config, device, RunDirectory.at(runDir), QUIET);
        trainer.run();
        return trainer.losses();
    }
}
