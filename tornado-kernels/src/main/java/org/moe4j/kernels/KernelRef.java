package org.moe4j.kernels;

import java.io.Serializable;

/**
 * A method reference to a kernel method. It is {@link Serializable} so that its
 * {@link java.lang.invoke.SerializedLambda} names the class and method whose bytecode a device
 * compiler reads ({@link KernelMethod#of}); on the JVM the same reference is simply called.
 *
 * <p>A kernel method is {@code public static void}, takes a {@link KernelContext} first and then
 * primitive arrays and scalars only.
 */
public interface KernelRef extends Serializable {
}
