package org.moe4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.moe4j.random.SplitMix64;

/**
 * A token stream split into a training part (the first {@code 1 - validationFraction}) and a
 * held-out validation part (the rest), with batch sampling.
 *
 * <p>Training batches are windows of {@code T+1} tokens at uniformly random offsets, drawn from a
 * {@link SplitMix64} whose state ({@link #rngState()}) a checkpoint saves: restoring it with
 * {@link #setRngState(long)} makes the resumed run draw exactly the batches the uninterrupted run
 * would have. Validation batches are a fixed sequence of evenly spaced windows, the same on every
 * call, so eval losses of different steps and runs compare.
 */
public final class TokenDataset {

    /** The validation share used when none is given. */
    public static final double DEFAULT_VALIDATION_FRACTION = 0.1;

    private final String source;
    private final int[] tokens;
    /** Tokens {@code [0, trainEnd)} are training data, {@code [trainEnd, length)} validation. */
    private final int trainEnd;
    private final SplitMix64 rng;
    private final List<String> warnings;

    /**
     * @param source             what the tokens came from (a file, a corpus seed), for error messages
     * @param tokens             the token ids; not copied, not modified
     * @param validationFraction share of the tokens, at the end, held out for validation; in [0, 1)
     * @param seed               seed of the training-batch sampler
     */
    public TokenDataset(String source, int[] tokens, double validationFraction, long seed) {
        this(source, tokens, validationFraction, seed, List.of());
    }

    private TokenDataset(String source, int[] tokens, double validationFraction, long seed, List<String> warnings) {
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in [0, 1), got " + validationFraction);
        }
        this.source = source;
        this.tokens = tokens;
        this.trainEnd = tokens.length - (int) Math.round(tokens.length * validationFraction);
        this.rng = new SplitMix64(seed);
        this.warnings = List.copyOf(warnings);
    }

    /**
     * The bytes of a UTF-8 text file as byte-level tokens ({@link ByteTokenizer}).
     *
     * @throws IllegalArgumentException if the file is not UTF-8 ({@link TextFile#read})
     */
    public static TokenDataset fromFile(Path utf8Text, double validationFraction, long seed) throws IOException {
        TextFile text = TextFile.read(utf8Text);
        return new TokenDataset(utf8Text.toString(), ByteTokenizer.fromBytes(text.bytes()), validationFraction, seed,
                text.warnings());
    }

    /** {@link SyntheticCorpus#generate} of {@code corpusSeed} as byte-level tokens. */
    public static TokenDataset fromSyntheticCorpus(long corpusSeed, int approxBytes, double validationFraction,
            long seed) {
        return new TokenDataset("synthetic corpus (seed " + corpusSeed + ", " + approxBytes + " bytes)",
                new ByteTokenizer().encode(SyntheticCorpus.generate(corpusSeed, approxBytes)), validationFraction, seed);
    }

    /** What looked wrong with the source without being refused (a text file that looks binary). */
    public List<String> warnings() {
        return warnings;
    }

    /** What the tokens came from. */
    public String source() {
        return source;
    }

    /** Tokens in the training part. */
    public int trainTokens() {
        return trainEnd;
    }

    /** Tokens in the validation part. */
    public int validationTokens() {
        return tokens.length - trainEnd;
    }

    /** The sampler's state, to save in a checkpoint. */
    public long rngState() {
        return rng.state();
    }

    /** Restores a state from {@link #rngState()}: the next batches are those that followed it. */
    public void setRngState(long state) {
        rng.setState(state);
    }

    /**
     * Checks up front that both parts hold at least one window of {@code T+1} tokens, so a run
     * fails before its first step rather than at its first eval.
     *
     * @throws IllegalArgumentException naming the source, the lengths and {@code T}
     */
    public void checkSequenceLength(int seqLen) {
        requireWindow("training", trainEnd, seqLen);
        requireWindow("validation", tokens.length - trainEnd, seqLen);
    }

    /**
     * {@code B} windows at random offsets of the training part.
     *
     * @throws IllegalArgumentException if {@code B} or {@code T} is not positive, or the training
     *                                  part is shorter than {@code T+1} tokens
     */
    public Batch nextTrainBatch(int batchSize, int seqLen) {
        requirePositive(batchSize, seqLen);
        requireWindow("training", trainEnd, seqLen);
        int[] inputs = new int[batchSize * seqLen];
        int[] targets = new int[batchSize * seqLen];
        int starts = trainEnd - seqLen; // number of valid window starts
        for (int b = 0; b < batchSize; b++) {
            copyWindow(rng.nextInt(starts), seqLen, inputs, targets, b);
        }
        return new Batch(batchSize, seqLen, inputs, targets);
    }

    /**
     * Up to {@code maxBatches} full validation batches of evenly spaced, non-overlapping windows
     * covering the validation part; the same list on every call. Fewer batches come back when the
     * validation part holds fewer windows.
     *
     * @throws IllegalArgumentException if the validation part holds fewer than {@code B} windows of
     *                                  {@code T+1} tokens
     */
    public List<Batch> validationBatches(int batchSize, int seqLen, int maxBatches) {
        requirePositive(batchSize, seqLen);
        if (maxBatches < 1) {
            throw new IllegalArgumentException("maxBatches must be positive, got " + maxBatches);
        }
        int valLen = tokens.length - trainEnd;
        requireWindow("validation", valLen, seqLen);
        // Windows overlap by their one target token only, so every token is a target at most once.
        int windows = (valLen - 1) / seqLen;
        if (windows < batchSize) {
            throw new IllegalArgumentException("validation part of " + source + " has " + valLen + " tokens, "
                    + windows + " windows of T+1 = " + (seqLen + 1) + ", fewer than one batch of B = " + batchSize
                    + "; lower B or T or raise the validation fraction");
        }
        int batches = Math.min(maxBatches, windows / batchSize);
        int used = batches * batchSize;
        long span = valLen - 1 - seqLen; // last valid start, relative to the validation part
        List<Batch> out = new ArrayList<>(batches);
        for (int k = 0; k < batches; k++) {
            int[] inputs = new int[batchSize * seqLen];
            int[] targets = new int[batchSize * seqLen];
            for (int b = 0; b < batchSize; b++) {
                int w = k * batchSize + b;
                int start = used == 1 ? 0 : (int) (w * span / (used - 1));
                copyWindow(trainEnd + start, seqLen, inputs, targets, b);
            }
            out.add(new Batch(batchSize, seqLen, inputs, targets));
        }
        return out;
    }

    private void copyWindow(int start, int seqLen, int[] inputs, int[] targets, int row) {
        System.arraycopy(tokens, start, inputs, row * seqLen, seqLen);
        System.arraycopy(tokens, start + 1, targets, row * seqLen, seqLen);
    }

    private void requireWindow(String part, int length, int seqLen) {
        if (length < seqLen + 1) {
            throw new IllegalArgumentException("the " + part + " part of " + source + " has " + length
                    + " tokens, fewer than T+1 = " + (seqLen + 1) + " (T = " + seqLen + "); use a longer text"
                    + " or a shorter sequence length");
        }
    }

    private static void requirePositive(int batchSize, int seqLen) {
        if (batchSize < 1 || seqLen < 1) {
            throw new IllegalArgumentException("B and T must be positive, got B=" + batchSize + " T=" + seqLen);
        }
    }
}
