package org.moe4j.train;

import java.util.Arrays;
import org.moe4j.nn.GptModel;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;

/**
 * Autoregressive sampling with temperature and top-k. The model sees at most its context size of
 * the latest tokens; the random stream is seeded, so a seed gives one continuation.
 */
public final class Sampler {
    private final GptModel model;
    private final SplitMix64 random;

    public Sampler(GptModel model, long seed) {
        this.model = model;
        this.random = new SplitMix64(seed);
    }

    /**
     * Continues {@code prompt} by {@code count} tokens.
     *
     * @param temperature &gt; 0; lower is greedier
     * @param topK        sample among the {@code topK} most likely tokens; 0 means all
     * @return the new tokens only
     */
    public int[] generate(int[] prompt, int count, double temperature, int topK) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must hold at least one token");
        }
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature=" + temperature + " is out of range: must be > 0");
        }
        int vocab = model.config().vocabSize();
        if (topK < 0 || topK > vocab) {
            throw new IllegalArgumentException("top_k=" + topK + " is out of range: must be in [0, " + vocab + "]");
        }
        int[] tokens = Arrays.copyOf(prompt, prompt.length + count);
        int length = prompt.length;
        for (int i = 0; i < count; i++) {
            int window = Math.min(length, model.config().contextSize());
            int[] context = Arrays.copyOfRange(tokens, length - window, length);
            float[] logits = model.forward(Tape.inference(model.device()), context, 1, window).toHost().data();
            tokens[length++] = sample(logits, (window - 1) * vocab, vocab, temperature, topK);
        }
        return Arrays.copyOfRange(tokens, prompt.length, tokens.length);
    }

    private int sample(float[] logits, int offset, int vocab, double temperature, int topK) {
        double[] scaled = new double[vocab];
        for (int v = 0; v < vocab; v++) {
            scaled[v] = logits[offset + v] / temperature;
        }
        double cutoff = Double.NEGATIVE_INFINITY;
        if (topK > 0) {
            double[] sorted = scaled.clone();
            Arrays.sort(sorted);
            cutoff = sorted[vocab - topK];
        }
        double max = Arrays.stream(scaled).max().orElseThrow();
        double total = 0;
        double[] weights = new double[vocab];
        for (int v = 0; v < vocab; v++) {
            weights[v] = scaled[v] >= cutoff ? Math.exp(scaled[v] - max) : 0;
            total += weights[v];
        }
        double target = random.nextDouble() * total;
        for (int v = 0; v < vocab; v++) {
            target -= weights[v];
            if (target < 0) {
                return v;
            }
        }
        for (int v = vocab - 1; v >= 0; v--) {
            if (weights[v] > 0) {
                return v;
            }
        }
        throw new IllegalStateException("no token has positive probability");
    }
}
