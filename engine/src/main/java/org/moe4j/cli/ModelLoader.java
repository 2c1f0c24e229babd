package org.moe4j.cli;

import java.io.IOException;
import org.moe4j.kernels.Device;
import org.moe4j.nn.GptModel;
import org.moe4j.train.Checkpoint;

/** Builds the model a checkpoint describes and loads its weights. */
final class ModelLoader {
    private ModelLoader() {
    }

    static GptModel load(Checkpoint checkpoint, Device device) throws IOException {
        GptModel model = new GptModel(checkpoint.config().model(), device, checkpoint.config().seed());
        checkpoint.restoreParameters(model.parameters());
        checkpoint.restoreBuffers(model.buffers());
        return model;
    }
}
