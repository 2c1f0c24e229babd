/**
 * What a training run reports: one JSON object per logging step appended to
 * {@code metrics.jsonl} in the run directory ({@link org.moe4j.train.metrics.MetricsLog}), PNG
 * line charts of those series ({@link org.moe4j.train.metrics.LinePlot}, headless java.awt), and
 * a one-line terminal progress display ({@link org.moe4j.train.metrics.ProgressBar}).
 *
 * <p>Nothing here knows about tensors or models: the training loop passes plain numbers.
 */
package org.moe4j.train.metrics;
