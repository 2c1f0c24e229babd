/**
 * The two programs of the GPU check kit ({@code gpu-kit/}): {@link org.moe4j.benchmarks.gpu.GpuTrainingCheck}
 * trains the default model on {@code cuda} and on {@code jvm} and compares the losses, and
 * {@link org.moe4j.benchmarks.gpu.GpuReport} turns the kit's results (JUnit reports, that check,
 * the JMH and PyTorch MoE layer timings) into one markdown table.
 */
package org.moe4j.benchmarks.gpu;
