package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 3 parameters as a {@link Kernel3}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel3<A,B,C> {
    void run(A a, B b, C c);
}
