package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 7 parameters as a {@link Kernel7}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel7<A,B,C,D,E,F,G> {
    void run(A a, B b, C c, D d, E e, F f, G g);
}
