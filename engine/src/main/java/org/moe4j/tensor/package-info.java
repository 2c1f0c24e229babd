/**
 * Tensors on a device and reverse-mode autograd. {@link org.moe4j.tensor.Tensor} holds a shape and
 * a float32 array; {@link org.moe4j.tensor.Tape} records each op's backward step during the
 * forward pass and replays them in reverse. The ops themselves live in
 * {@code org.moe4j.tensor.ops}: each is a forward kernel and a backward kernel from
 * {@code org.moe4j.kernels.lib} plus the bookkeeping that ties them to the tape.
 *
 * <p>Dimension letters: {@code B} batch, {@code T} tokens (sequence positions), {@code D} model
 * width, {@code F} feed-forward hidden width, {@code H} heads, {@code V} vocabulary,
 * {@code N} rows (B·T).
 */
package org.moe4j.tensor;
