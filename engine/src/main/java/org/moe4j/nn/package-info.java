/**
 * Layers and the GPT-style decoder built from the tensor ops: embeddings, linear layers,
 * RMSNorm, causal self-attention, the dense MLP and the pre-norm transformer block. A block takes
 * its {@link org.moe4j.nn.FeedForward} as a component, the seam where Mixture-of-Experts layers
 * plug in. The parameter shapes of a config without building it, and the initialisation,
 * whole or of a shard of the experts.
 *
 * <p>Dimension letters: {@code B} batch, {@code T} tokens, {@code D} width, {@code F} hidden
 * width, {@code V} vocabulary.
 */
package org.moe4j.nn;
