package org.moe4j.kernels.compiler;

import java.util.List;

/**
 * A kernel translated to OpenCL C.
 *
 * <p>The kernel function takes, for each Java parameter after the {@code KernelContext}: a scalar
 * as it is, or an array as a {@code __global} pointer followed by its length as an {@code int}
 * (the hidden argument {@code arraylength} reads).
 *
 * @param displayName        {@code Class.method} of the Java kernel
 * @param kernelName         name of the {@code __kernel} function in {@link #source}
 * @param source             the OpenCL C program: helpers, then the kernel
 * @param params             the Java parameters after the context, in order
 * @param usesDouble         whether the program needs fp64 ({@code cl_khr_fp64})
 * @param localMemoryBytes   bytes of {@code __local} arrays the kernel declares
 * @param mode               the math mode it was translated with
 */
public record CompiledKernel(String displayName, String kernelName, String source, List<KernelParam> params,
                             boolean usesDouble, long localMemoryBytes, MathMode mode) {
}
