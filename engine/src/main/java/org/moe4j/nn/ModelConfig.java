package org.moe4j.nn;

/**
 * The shape of a GPT-style decoder.
 *
 * @param vocabSize   tokens in the vocabulary (256 for byte-level text)
 * @param contextSize the longest sequence the model sees (T)
 * @param layers      transformer blocks
 * @param heads       attention heads; must divide {@code width}
 * @param width       model width D
 * @param hidden      hidden width F of the feed-forward layers (4·D in GPT-2)
 */
public record ModelConfig(int vocabSize, int contextSize, int layers, int heads, int width, int hidden) {

    /** The default small model: trains on two cores in a few minutes. */
    public static final ModelConfig SMALL = new ModelConfig(256, 64, 4, 4, 128, 512);

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

    /** Number of parameters of the model this config describes. */
    public long parameterCount() {
        long block = 2L * width                       // two norm gains
                + (long) width * 3 * width + 3L * width  // qkv
                + (long) width * width + width           // attention output projection
                + 2L * width * hidden + hidden + width;  // MLP
        return (long) vocabSize * width + (long) contextSize * width + layers * block + width
                + (long) width * vocabSize + vocabSize;
    }
}
