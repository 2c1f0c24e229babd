package org.moe4j.moe;

import org.moe4j.nn.Module;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * The experts of one MoE layer: {@code E} feed-forward networks of the same form, each with its own
 * weights, applied to the dispatch buffer. Write a custom expert as a class implementing this
 * interface with a public constructor {@code (ExpertShape shape, LayerContext layer)}; name it in
 * {@code moe.expert} (or {@code --expert}) by its fully-qualified class name.
 *
 * <p>Keep each expert's weights stacked along a leading {@code E} dimension (for example
 * {@code (E,D,F)}, made with {@link org.moe4j.nn.Init#normal}, not drawn from the layer's random
 * stream directly: on a rank that holds a shard of the experts, {@code shape.experts()} is the
 * shard's count and {@code Init.normal} draws the shard's rows of the whole layer's weight) and build the forward from the tensor
 * ops, {@link org.moe4j.tensor.ops.BatchedLinear} above all: expert e's tokens are the rows
 * {@code tokens[e]}, and {@code BatchedLinear.forward(tape, tokens, w, b)} computes
 * {@code tokens[e]·w[e] + b[e]} for every e. Pointwise ops ({@code Activations}, {@code
 * Elementwise}) treat all experts alike. Every op records its backward, so the expert trains
 * through autograd with nothing more to write. See {@link GeluExperts} for the built-in one.
 *
 * <p>Rows of unused slots hold zeros; whatever the expert makes of them is discarded by the
 * combine.
 */
public interface Expert extends Module {

    /**
     * @param tokens (E,C,D) the dispatch buffer; not modified
     * @return (E,C,D) each expert's output for its rows
     */
    Tensor forward(Tape tape, Tensor tokens);
}
