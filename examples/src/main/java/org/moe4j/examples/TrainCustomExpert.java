package org.moe4j.examples;

import java.nio.file.Path;
import org.moe4j.kernels.Device;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;

/**
 * Trains the default MoE model with {@link GatedExpert} as its experts, from Java.
 *
 * <pre>
 * ./moe --help    # builds the project once
 * $JAVA_HOME/bin/java --add-modules=jdk.incubator.vector \
 *   -cp examples/target/classes:engine/target/engine.jar:'engine/target/lib/*' \
 *   org.moe4j.examples.TrainCustomExpert
 * </pre>
 */
public final class TrainCustomExpert {
    private TrainCustomExpert() {
    }

    public static void main(String[] args) throws Exception {
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT)
                .set("steps", "100")
                .set("moe.expert", GatedExpert.class.getName())
                .set("moe.hidden", "128") // two weight matrices in: keep the parameters near the GELU expert's
                .build();
        try (Device device = Devices.open(config.device());
             Trainer trainer = Trainer.start(config, device, RunDirectory.at(Path.of("runs", "gated-expert")),
                     System.out)) {
            trainer.run();
        }
    }
}
