package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.nn.GptModel;
import org.moe4j.nn.ModelConfig;
import org.moe4j.tensor.Tape;

class SamplerTest {
    private static final ModelConfig TINY = new ModelConfig(13, 6, 1, 2, 8, 16);
    private final GptModel model = new GptModel(TINY, new JvmDevice(1, false), 9);

    @Test
    void topKOfOneIsGreedy() {
        int[] prompt = {1, 2, 3};
        int[] generated = new Sampler(model, 1).generate(prompt, 1, 1.0, 1);
        float[] logits = model.forward(Tape.inference(model.device()), prompt, 1, 3).toHost().data();
        int best = 0;
        for (int v = 1; v < TINY.vocabSize(); v++) {
            if (logits[2 * TINY.vocabSize() + v] > logits[2 * TINY.vocabSize() + best]) {
                best = v;
            }
        }
        assertEquals(best, generated[0]);
    }

    @Test
    void sameSeedSameTextAndContextIsWindowed() {
        int[] prompt = {4, 5};
        int[] first = new Sampler(model, 42).generate(prompt, 10, 0.9, 0);
        int[] second = new Sampler(model, 42).generate(prompt, 10, 0.9, 0);
        assertArrayEquals(first, second);
        assertEquals(10, first.length);
    }

    @Test
    void badArgumentsAreRejected() {
        Sampler sampler = new Sampler(model, 1);
        assertThrows(IllegalArgumentException.class, () -> sampler.generate(new int[0], 3, 1.0, 0));
        assertThrows(IllegalArgumentException.class, () -> sampler.generate(new int[] {1}, 3, 0.0, 0));
        assertThrows(IllegalArgumentException.class, () -> sampler.generate(new int[] {1}, 3, 1.0, 14));
    }
}
