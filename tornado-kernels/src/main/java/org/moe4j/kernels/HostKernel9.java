package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 9 parameters as a {@link Kernel9}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel9<A,B,C,D,E,F,G,H,I> {
    void run(A a, B b, C c, D d, E e, F f, G g, H h, I i);
}
