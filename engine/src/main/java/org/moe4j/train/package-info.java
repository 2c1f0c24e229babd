/**
 * Training: configuration and its validation, the training loop, AdamW, the learning-rate
 * schedule, gradient clipping, held-out evaluation, sampling, checkpoints and run directories;
 * over several ranks the data parallelism, the sharded optimizer and sharded checkpoints; and the
 * plan of what a run needs per rank ({@link org.moe4j.train.ScalePlan}).
 * {@code train.checkpoint} owns the safetensors files; {@code train.metrics} the metrics lines,
 * the progress line and the plots.
 */
package org.moe4j.train;
