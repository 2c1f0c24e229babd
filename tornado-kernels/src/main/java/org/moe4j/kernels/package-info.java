/**
 * The kernel API and its devices. A kernel is a {@code public static void} Java method taking a
 * {@link org.moe4j.kernels.KernelContext} and then primitive arrays and scalars; it is launched
 * over a {@link org.moe4j.kernels.Grid} on a {@link org.moe4j.kernels.Device} through a method
 * reference ({@link org.moe4j.kernels.KernelRef}), so the same method is both the JVM
 * implementation and the source a device compiler reads. {@link org.moe4j.kernels.JvmDevice} runs
 * grids on a fork/join pool and takes hand-tuned overrides of hot kernels.
 *
 * <p>Nothing here knows what a transformer is.
 */
package org.moe4j.kernels;
