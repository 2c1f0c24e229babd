package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 4 parameters as a {@link Kernel4}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel4<A,B,C,D> {
    void run(A a, B b, C c, D d);
}
