/**
 * Training data: byte-level tokenization ({@link org.moe4j.data.ByteTokenizer}, {@code V = 256}),
 * a deterministic synthetic corpus for smoke tests and studies ({@link
 * org.moe4j.data.SyntheticCorpus}), and a token stream split into training and held-out
 * validation parts that yields {@code (B, T)} batches of inputs and next-token targets ({@link
 * org.moe4j.data.TokenDataset}).
 *
 * <p>Dimension letters: {@code B} batch, {@code T} tokens per sequence, {@code V} vocabulary.
 * Sampling draws from a {@link org.moe4j.random.SplitMix64} whose state a checkpoint saves, so a
 * resumed run sees exactly the batches the uninterrupted run would have seen.
 */
package org.moe4j.data;
