package org.moe4j.kernels.compiler;

import java.util.List;

/**
 * A kernel translated to OpenCL C or to PTX.
 *
 * <p>The kernel function takes, for each Java parameter after the {@code KernelContext}: a scalar
 * as it is, or an array as a global pointer followed by its length as a 32-bit int (the hidden
 * argument {@code arraylength} reads).
 *
 * @param displayName        {@code Class.method} of the Java kernel
 * @param kernelName         name of the {@code __kernel} function in {@link #source}
 * @param source             the OpenCL C program or the PTX module: helpers, then the kernel
 * @param params             the Java parameters after the context, in order
 * @param usesDouble         whether the program computes in double ({@code cl_khr_fp64} on OpenCL)
 * @param localMemoryBytes   bytes of {@code __local} arrays the kernel declares
 * @param mode               the math mode it was translated with
 */
public record CompiledKernel(String displayName, String kernelName, String source, List<KernelParam> params,
                             boolean usesDouble, long localMemoryBytes, MathMode mode) {

    /**
     * The launch arguments checked against {@link #params}: arrays as they are, scalars unboxed
     * ({@link KernelParam#check}).
     *
     * @throws IllegalArgumentException for a wrong number or type of arguments
     */
    public Object[] checkArguments(Object[] args) {
        if (args.length != params.size()) {
            throw new IllegalArgumentException(displayName + " takes " + params.size() + " arguments, got " + args.length);
        }
        Object[] checked = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            checked[i] = params.get(i).check(displayName, args[i]);
        }
        return checked;
    }
}
