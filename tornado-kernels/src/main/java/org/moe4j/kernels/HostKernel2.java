package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 2 parameters as a {@link Kernel2}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel2<A,B> {
    void run(A a, B b);
}
