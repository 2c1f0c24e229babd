package org.moe4j.examples;

import java.nio.file.Path;
import org.moe4j.data.ByteTokenizer;
import org.moe4j.kernels.Device;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.Sampler;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;

/**
 * Trains a small model from Java code instead of the command line, then samples from it.
 *
 * <pre>
 * ./moe --help    # builds the project once
 * $JAVA_HOME/bin/java --add-modules=jdk.incubator.vector \
 *   -cp examples/target/classes:engine/target/engine.jar:'engine/target/lib/*' \
 *   org.moe4j.examples.TrainFromJava
 * </pre>
 */
public final class TrainFromJava {
    private TrainFromJava() {
    }

    public static void main(String[] args) throws Exception {
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT)
                .set("steps", "100")
                .set("model.layers", "2")
                .build();
        try (Device device = Devices.open(config.device());
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(Path.of("runs", "from-java")), System.out)) {
            trainer.run();
            ByteTokenizer tokenizer = new ByteTokenizer();
            String prompt = "reverse stone -> ";
            int[] sample = new Sampler(trainer.model(), 1).generate(tokenizer.encode(prompt), 30, 0.8, 20);
            System.out.println(prompt + tokenizer.decode(sample));
        }
    }
}
