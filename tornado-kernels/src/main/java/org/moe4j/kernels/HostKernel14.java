package org.moe4j.kernels;

/**
 * A whole-launch JVM implementation with the same 14 parameters as a {@link Kernel14}, used as a
 * hand-tuned override of that portable kernel on the JVM device (see {@link JvmDevice}).
 */
@FunctionalInterface
public interface HostKernel14<A,B,C,D,E,F,G,H,I,J,K,L,M,N> {
    void run(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l, M m, N n);
}
