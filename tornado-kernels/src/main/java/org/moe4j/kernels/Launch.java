package org.moe4j.kernels;

/**
 * One kernel launch as a device receives it.
 *
 * @param grid   global and work-group sizes
 * @param kernel the kernel reference (a compiler reads its method; an override is found by it)
 * @param body   the kernel with its arguments bound, for devices that call it directly
 * @param args   the arguments in declaration order: arrays, and boxed scalars
 */
public record Launch(Grid grid, KernelRef kernel, WorkItem body, Object[] args) {
}
