package org.moe4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.ExpertLearning;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;
import org.moe4j.train.TrainingData;

/** The custom expert trains through the engine by its class name, like {@code --expert} does. */
class GatedExpertTest {

    @TempDir
    Path dir;

    @Test
    void trainsByClassName() throws Exception {
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT).set("model.context_size", "16")
                .set("model.layers", "1").set("model.width", "16").set("model.heads", "2").set("batch_size", "4")
                .set("steps", "20").set("warmup_steps", "2").set("learning_rate", "0.01").set("eval_every", "20")
                .set("eval_batches", "1").set("corpus_bytes", "20000").set("moe.experts", "4")
                .set("moe.hidden", "8").set("moe.expert", GatedExpert.class.getName()).build();
        try (Device device = Devices.open("jvm");
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(dir),
                     new PrintStream(OutputStream.nullOutputStream()))) {
            Map<String, float[]> before = ExpertLearning.snapshot(trainer.model());
            trainer.run();
            List<Float> losses = trainer.losses();
            ExpertLearning.assertEveryExpertLearns(trainer.model(), before,
                    TrainingData.open(config).nextTrainBatch(config.batchSize(), config.model().contextSize()));
            assertTrue(losses.get(19) < losses.get(0) - 0.5, "loss did not fall: " + losses);
            Tensor gate = trainer.model().parameters().get("blocks.0.ffn.experts.gate.weight");
            assertEquals(List.of(4, 16, 8), List.of(gate.dim(0), gate.dim(1), gate.dim(2)));
        }
    }
}
