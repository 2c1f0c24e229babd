/**
 * JMH benchmarks of the kernels, the layers and the training step, compared side by side with
 * the reference scripts in {@code benchmarks/reference/}.
 */
package org.moe4j.benchmarks;
