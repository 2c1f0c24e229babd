package org.moe4j.moe;

import java.util.Map;
import org.moe4j.nn.LayerContext;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** A custom expert for tests that passes its dispatch buffer through and keeps a copy of it. */
public final class RecordingExpert implements Expert {
    /** The (E,C,D) buffer the experts of the last forward saw. */
    static float[] lastInput;

    public RecordingExpert(ExpertShape shape, LayerContext layer) {
    }

    @Override
    public Tensor forward(Tape tape, Tensor tokens) {
        lastInput = tokens.toHost().data().clone();
        return tokens;
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
    }
}
