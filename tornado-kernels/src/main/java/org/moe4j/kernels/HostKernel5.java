package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 5 parameters as a {@link Kernel5}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel5<A,B,C,D,E> {
    void run(A a, B b, C c, D d, E e);
}
