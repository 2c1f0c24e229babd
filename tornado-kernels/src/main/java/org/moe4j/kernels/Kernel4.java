package org.moe4j.kernels;

/**
 * A kernel of 4 parameters after its {@link KernelContext}: the target type of a method
 * reference to a kernel method. See {@link KernelRef}.
 */
@FunctionalInterface
public interface Kernel4<A,B,C,D> extends KernelRef {
    void run(KernelContext context, A a, B b, C c, D d);
}
