package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.moe4j.data.Batch;
import org.moe4j.nn.GptModel;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * That the experts themselves learn, which a falling loss does not show (embeddings and attention
 * alone make it fall): every expert of every expert tensor (its slice along the leading E
 * dimension) has a non-zero gradient on a batch and has changed since a snapshot.
 */
public final class ExpertLearning {
    private ExpertLearning() {
    }

    /** Copies of the model's expert parameters, by name. */
    public static Map<String, float[]> snapshot(GptModel model) {
        Map<String, float[]> copy = new LinkedHashMap<>();
        for (String name : model.expertParameterNames()) {
            copy.put(name, model.parameters().get(name).toHost().data().clone());
        }
        assertFalse(copy.isEmpty(), "the model has no expert parameters");
        return copy;
    }

    /**
     * @param before a {@link #snapshot} taken before training
     * @param batch  a batch to take gradients on; the model's gradients must be zero (as after a step)
     */
    public static void assertEveryExpertLearns(GptModel model, Map<String, float[]> before, Batch batch) {
        Tape tape = Tape.training(model.device());
        tape.backward(model.loss(tape, batch.inputs(), batch.targets(), batch.batchSize(), batch.seqLen()));
        for (Map.Entry<String, float[]> entry : before.entrySet()) {
            Tensor p = model.parameters().get(entry.getKey());
            float[] grad = p.grad();
            model.device().copyToHost(grad);
            float[] now = p.toHost().data();
            int experts = p.dim(0);
            int each = p.size() / experts;
            for (int e = 0; e < experts; e++) {
                int from = e * each;
                int to = from + each;
                if (allZero(grad, from, to)) {
                    fail(entry.getKey() + ": expert " + e + " has a zero gradient");
                }
                if (Arrays.equals(Arrays.copyOfRange(now, from, to), Arrays.copyOfRange(entry.getValue(), from, to))) {
                    fail(entry.getKey() + ": expert " + e + " did not change in training");
                }
            }
        }
    }

    private static boolean allZero(float[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
