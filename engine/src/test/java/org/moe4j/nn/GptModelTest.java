package org.moe4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.moe.MoeConfig;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

class GptModelTest {
    private static final ModelConfig TINY = new ModelConfig(11, 5, 2, 2, 8, 12);

    @Test
    void parameterCountMatchesTheConfig() {
        GptModel model = new GptModel(TINY, new JvmDevice(1, false), 3);
        long total = model.parameters().values().stream().mapToLong(Tensor::size).sum();
        assertEquals(TINY.parameterCount(), total);
    }

    @Test
    void parameterCountOfMoeModelsMatchesTheConfig() {
        for (String expert : new String[] {"gelu", "swiglu"}) {
            ModelConfig config = TINY.withMoe(new MoeConfig("prototype", 4, 2, 1.25, 2, false, 0.01, 0.001, 0, expert,
                    6, 2));
            GptModel model = new GptModel(config, new JvmDevice(1, false), 3);
            long total = model.parameters().values().stream().mapToLong(Tensor::size).sum();
            assertEquals(config.parameterCount(), total, expert);
            assertEquals(1, model.moeLayers().size(), "every 2nd of 2 blocks");
            assertTrue(model.parameters().containsKey("blocks.1.ffn.router.weight"));
            assertTrue(model.parameters().containsKey("blocks.0.ffn.up.weight"));
        }
    }

    @Test
    void lossGradientOfTheWholeModelMatchesFiniteDifferences() {
        JvmDevice device = new JvmDevice(2, false);
        GptModel model = new GptModel(TINY, device, 3);
        SplitMix64 random = new SplitMix64(5);
        int batch = 2;
        int length = 5;
        int[] tokens = new int[batch * length];
        int[] targets = new int[batch * length];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(TINY.vocabSize());
            targets[i] = random.nextInt(TINY.vocabSize());
        }
        var p = model.parameters();
        // The residual stream starts at rms ~0.03 (init std 0.02), so the step must be far smaller
        // than that for RMSNorm to look linear over it.
        new GradCheck(device).step(1e-3).check("gpt loss",
                tape -> model.loss(tape, tokens, targets, batch, length),
                p.get("final_norm.weight"), p.get("head.bias"), p.get("blocks.0.attn_norm.weight"),
                p.get("blocks.1.ffn.down.bias"), p.get("position_embedding"));
    }

    @Test
    void tooLongSequenceIsRejected() {
        GptModel model = new GptModel(TINY, new JvmDevice(1, false), 3);
        assertThrows(IllegalArgumentException.class,
                () -> model.forward(Tape.inference(model.device()), new int[6], 1, 6));
    }
}
