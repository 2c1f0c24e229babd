package org.moe4j.train;

import java.util.List;
import org.moe4j.data.Batch;
import org.moe4j.data.TokenDataset;
import org.moe4j.nn.GptModel;
import org.moe4j.tensor.Tape;

/** Mean loss on the held-out split: the same fixed batches every time, so evaluations compare. */
public final class Evaluator {
    private Evaluator() {
    }

    /** Mean cross-entropy over up to {@code eval_batches} validation batches (perplexity is its exp). */
    public static double loss(GptModel model, TokenDataset dataset, TrainConfig config) {
        int length = config.model().contextSize();
        List<Batch> batches = dataset.validationBatches(config.batchSize(), length, config.evalBatches());
        double sum = 0;
        for (Batch batch : batches) {
            Tape tape = Tape.inference(model.device());
            sum += model.loss(tape, batch.inputs(), batch.targets(), config.batchSize(), length).toHost().data()[0];
        }
        return sum / batches.size();
    }
}
