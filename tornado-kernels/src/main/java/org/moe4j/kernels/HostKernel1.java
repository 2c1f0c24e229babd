package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 1 parameter as a {@link Kernel1}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel1<A> {
    void run(A a);
}
