package org.moe4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.moe.MoeConfig;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.CrossEntropyReference;

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
                    6, 2, expert.equals("gelu") ? 2 : 0, "softmax", "aux_loss", 0.001, "batch", 1, 1));
            GptModel model = new GptModel(config, new JvmDevice(1, false), 3);
            long total = model.parameters().values().stream().mapToLong(Tensor::size).sum();
            assertEquals(config.parameterCount(), total, expert);
            assertEquals(1, model.moeLayers().size(), "every 2nd of 2 blocks");
            assertTrue(model.parameters().containsKey("blocks.1.ffn.router.weight"));
            assertTrue(model.parameters().containsKey("blocks.0.ffn.up.weight"));
        }
    }

    /**
     * Every parameter of the model against central differences of the mean cross-entropy, computed
     * in double from the logits. The init is scaled up (weights std 0.5, norm gains near 1, biases
     * 0.1) so that every parameter's gradient, the attention branch's included, is far above atol.
     */
    @Test
    void lossGradientOfEveryParameterMatchesFiniteDifferences() {
        // The whole-launch overrides: two forwards per parameter value, a few thousand in all.
        JvmDevice device = new JvmDevice(1, false);
        GemmSimd.registerOn(device);
        ElementwiseSimd.registerOn(device);
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
        model.parameters().forEach((name, p) -> {
            float[] data = p.data();
            for (int i = 0; i < data.length; i++) {
                double noise = random.nextGaussian();
                data[i] = (float) (name.endsWith("norm.weight") ? 1 + 0.1 * noise
                        : name.endsWith("bias") ? 0.1 * noise : 0.5 * noise);
            }
            p.toDevice();
        });
        new GradCheck(device).step(1e-3).objective(new CrossEntropyReference(targets, TINY.vocabSize())).check("gpt loss",
                tape -> model.forward(tape, tokens, batch, length),
                model.parameters().values().toArray(Tensor[]::new));
    }

    @Test
    void tooLongSequenceIsRejected() {
        GptModel model = new GptModel(TINY, new JvmDevice(1, false), 3);
        assertThrows(IllegalArgumentException.class,
                () -> model.forward(Tape.inference(model.device()), new int[6], 1, 6));
    }
}
