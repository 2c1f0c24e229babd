package org.moe4j.kernels;

/**
 * A kernel of 6 parameters after its {@link KernelContext}: the target type of a method
 * reference to a kernel method. See {@link KernelRef}.
 */
@FunctionalInterface
public interface Kernel6<A,B,C,D,E,F> extends KernelRef {
    void run(KernelContext context, A a, B b, C c, D d, E e, F f);
}
