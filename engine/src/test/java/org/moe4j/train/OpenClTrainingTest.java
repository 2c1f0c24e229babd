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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.opencl.OpenClDevice;

/**
 * The whole training loop on OpenCL: the loss curve of a tiny model follows the JVM device's, and
 * a run resumed from a checkpoint written on OpenCL (parameters and AdamW moments copied back from
 * the device) continues its curve exactly.
 */
class OpenClTrainingTest {
    /** Largest |loss_opencl - loss_jvm| / loss_jvm allowed over 20 steps (relaxed math); PoCL measured 9.7e-8. */
    static final double RELATIVE_TOLERANCE = 1e-5;

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static final TrainConfig TINY = new ConfigLoader(TrainConfig.DEFAULT)
            .set("model.context_size", "16").set("model.layers", "2").set("model.heads", "2")
            .set("model.width", "16").set("model.hidden", "32").set("batch_size", "4").set("steps", "20")
            .set("warmup_steps", "2").set("log_every", "5").set("eval_every", "10").set("eval_batches", "2")
            .set("checkpoint_every", "10").set("corpus_bytes", "20000").build();

    @TempDir
    Path dir;

    @Test
    void lossCurveFollowsTheJvmDevice() throws IOException {
        assumeTrue(!OpenClDevice.list().isEmpty(), () -> "OpenCL tests skipped: " + OpenClDevice.unavailableReason());
        List<Float> jvm;
        try (Device device = Devices.open("jvm")) {
            jvm = train(device, dir.resolve("jvm"));
        }
        List<Float> opencl;
        try (Device device = Devices.open("opencl")) {
            opencl = train(device, dir.resolve("opencl"));
        }
        assertEquals(TINY.steps(), opencl.size());
        double worst = 0;
        for (int i = 0; i < jvm.size(); i++) {
            worst = Math.max(worst, Math.abs(opencl.get(i) - jvm.get(i)) / jvm.get(i));
        }
        assertTrue(worst <= RELATIVE_TOLERANCE, "relative loss difference " + worst + "\njvm    " + jvm + "\nopencl " + opencl);
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

    private static List<Float> train(Device device, Path runDir) throws IOException {
        Trainer trainer = Trainer.start(TINY, device, RunDirectory.at(runDir), QUIET);
        trainer.run();
        return trainer.losses();
    }
}
