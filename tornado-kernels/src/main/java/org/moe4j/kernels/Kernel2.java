package org.moe4j.kernels;

/**
 * A kernel of 2 parameters after its {@link KernelContext}: the target type of a method
 * reference to a kernel method. See {@link KernelRef}.
 */
@FunctionalInterface
public interface Kernel2<A,B> extends KernelRef {
    void run(KernelContext context, A a, B b);
}
