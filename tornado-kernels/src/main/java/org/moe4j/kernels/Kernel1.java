package org.moe4j.kernels;

/**
 * A kernel of 1 parameter after its {@link KernelContext}: the target type of a method
 * reference to a kernel method. See {@link KernelRef}.
 */
@FunctionalInterface
public interface Kernel1<A> extends KernelRef {
    void run(KernelContext context, A a);
}
