package org.moe4j.nn;

import org.moe4j.moe.MoeConfig;

/**
 * The shape of a GPT-style decoder.
 *
 * @param vocabSize   tokens in the vocabulary (256 for byte-level text)
 * @param contextSize the longest sequence the model sees (T)
 * @param layers      transformer blocks
 * @param heads       attention heads; must divide {@code width}
 * @param width       model width D
 * @param hidden      hidden width F of the dense feed-forward layers (4·D in GPT-2)
 * @param moe         Mixture-of-Experts layers ({@code model.moe}); null for a dense model
 */
public record ModelConfig(int vocabSize, int contextSize, int layers, int heads, int width, int hidden,
                          MoeConfig moe) {

    /** The small dense model: trains on two cores in a few minutes. */
    public static final ModelConfig SMALL = new ModelConfig(256, 64, 4, 4, 128, 512);

    /**
     * The default model: {@link #SMALL} with an MoE layer in every block, 8 experts in 2 prototypes
     * of hidden width 256, so each token's feed-forward compute equals the dense model's.
     */
    public static final ModelConfig SMALL_MOE = SMALL.withMoe(MoeConfig.DEFAULT);

    public ModelConfig {
        ConfigCheck.atLeast("model.vocab_size", vocabSize, 2);
        ConfigCheck.atLeast("model.context_size", contextSize, 1);
        ConfigCheck.atLeast("model.layers", layers, 1);
        ConfigCheck.atLeast("model.heads", heads, 1);
        ConfigCheck.atLeast("model.width", width, 1);
        ConfigCheck.atLeast("model.hidden", hidden, 1);
        if (width % heads != 0) {
            throw new IllegalArgumentException("model.width=" + width + " must be divisible by model.heads=" + heads);
        }
    }

    /** A dense model. */
    public ModelConfig(int vocabSize, int contextSize, int layers, int heads, int width, int hidden) {
        this(vocabSize, contextSize, layers, heads, width, hidden, null);
    }

    /** This shape with {@code moe} layers (null: dense). */
    public ModelConfig withMoe(MoeConfig moe) {
        return new ModelConfig(vocabSize, contextSize, layers, heads, width, hidden, moe);
    }

    /** Whether block {@code index} has an MoE layer. */
    public boolean isMoeBlock(int index) {
        return moe != null && moe.isMoeBlock(index);
    }

    /**
     * Number of parameters of the model this config describes ({@link ParameterShapes}); for MoE
     * layers with the built-in experts ({@code gelu}, {@code swiglu}). A custom expert's count is
     * known only once built: count {@code GptModel.parameters()} then.
     *
     * @throws IllegalArgumentException for a custom expert
     */
    public long parameterCount() {
        return ParameterShapes.sizes(ParameterShapes.of(this)).values().stream().mapToLong(Long::longValue).sum();
    }
}
