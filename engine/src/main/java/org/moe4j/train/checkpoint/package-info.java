/**
 * Checkpoint files. They are <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * files, so Python's {@code safetensors}, numpy and PyTorch read them as they are
 * ({@code benchmarks/reference/read_checkpoint.py} shows how). {@link
 * org.moe4j.train.checkpoint.Safetensors} writes and reads the format on plain Java arrays and
 * refuses every malformed, truncated or corrupted file with a {@link
 * org.moe4j.train.checkpoint.CheckpointFormatException}; {@link
 * org.moe4j.train.checkpoint.CheckpointFormat} names the metadata that marks a file as a moe4j
 * checkpoint; {@link org.moe4j.train.checkpoint.AtomicFiles} makes sure a crash mid-write never
 * replaces a good checkpoint with a half-written one.
 *
 * <p>Nothing here knows about tensors or models: the training loop turns its parameters, optimizer
 * moments and RNG states into {@link org.moe4j.train.checkpoint.TensorEntry} values and back.
 */
package org.moe4j.train.checkpoint;
