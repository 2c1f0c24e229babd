package org.moe4j.kernels;

/**
 * A kernel of 9 parameters after its {@link KernelContext}: the target type of a method
 * reference to a kernel method. See {@link KernelRef}.
 */
@FunctionalInterface
public interface Kernel9<A,B,C,D,E,F,G,H,I> extends KernelRef {
    void run(KernelContext context, A a, B b, C c, D d, E e, F f, G g, H h, I i);
}
