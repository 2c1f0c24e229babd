package org.moe4j.nn;

import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * The feed-forward part of a transformer block: maps {@code x (N,D)} to {@code (N,D)} token by
 * token. This is the seam where a sparse Mixture-of-Experts layer replaces the dense MLP.
 */
public interface FeedForward extends Module {
    Tensor forward(Tape tape, Tensor x);
}
