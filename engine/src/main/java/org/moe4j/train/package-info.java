/**
 * Training: configuration and its validation, the training loop, AdamW, the learning-rate
 * schedule, gradient clipping, held-out evaluation, sampling, checkpoints and run directories.
 * {@code train.checkpoint} owns the safetensors files; {@code train.metrics} the metrics lines,
 * the progress line and the plots.
 */
package org.moe4j.train;
