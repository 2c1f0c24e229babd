package com.example.library;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;

/** A user's code: a small MoE model trained for a few steps through moe4j's Java API. */
class TrainWithMoe4jTest {
    @TempDir
    Path dir;

    @Test
    void trainsAFewStepsAndWritesACheckpoint() throws Exception {
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT)
                .set("steps", "3").set("batch_size", "2").set("corpus_bytes", "20000")
                .set("model.context_size", "16").set("model.layers", "1").set("model.width", "16")
                .set("model.heads", "2").set("moe.experts", "4").set("moe.hidden", "16").build();
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(dir),
                     new PrintStream(OutputStream.nullOutputStream()))) {
            trainer.run();
            assertEquals(3, trainer.losses().size());
            assertTrue(trainer.losses().stream().allMatch(loss -> Float.isFinite(loss)), trainer.losses().toString());
        }
        assertEquals(3, Checkpoint.load(dir.resolve(Checkpoint.FILE_NAME)).step());
    }
}
