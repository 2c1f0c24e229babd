/**
 * The CUDA device: kernels compiled to PTX by {@link org.moe4j.kernels.compiler.PtxCompiler},
 * loaded and launched through the CUDA driver API ({@code libcuda.so.1}, called through
 * {@code java.lang.foreign}: no JNI and no native code of ours), on the device's primary context
 * and one stream; the plain and batched GEMMs on cuBLAS through the same route when
 * {@code libcublas} is there. {@link org.moe4j.kernels.cuda.CudaDriver} decides whether the driver
 * and a GPU are there, and why not.
 *
 * <p>Nothing here knows what a transformer is.
 */
package org.moe4j.kernels.cuda;
