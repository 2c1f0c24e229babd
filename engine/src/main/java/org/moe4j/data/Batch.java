package org.moe4j.data;

/**
 * {@code B} sequences of {@code T} input tokens and, for each position, the next token as target.
 *
 * @param batchSize {@code B}
 * @param seqLen    {@code T}
 * @param inputs    (B,T) row-major: {@code inputs[b*T + t]}
 * @param targets   (B,T) row-major: {@code targets[b*T + t]} is the token after {@code inputs[b*T + t]}
 */
public record Batch(int batchSize, int seqLen, int[] inputs, int[] targets) {

    public Batch {
        if (inputs.length != batchSize * seqLen || targets.length != batchSize * seqLen) {
            throw new IllegalArgumentException("inputs " + inputs.length + " and targets " + targets.length
                    + " must both hold B*T = " + batchSize + "*" + seqLen + " tokens");
        }
    }
}
