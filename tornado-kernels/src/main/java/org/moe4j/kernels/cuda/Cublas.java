package org.moe4j.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * cuBLAS ({@code libcublas}, from the CUDA toolkit or a PyTorch install) through
 * {@code java.lang.foreign}: one handle on the device's stream, in pedantic math (no TF32, no
 * reduced-precision reductions, so a product is a float product), running the strided batched
 * SGEMM {@link CublasGemm} describes.
 */
final class Cublas implements AutoCloseable {
    /** The names tried, newest first. */
    static final String[] LIBRARIES = {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"};
    private static final int PEDANTIC_MATH = 2;

    final String library;
    private final MethodHandle cublasDestroy;
    private final MethodHandle cublasSgemmStridedBatched;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha;
    private final MemorySegment beta;

    private Cublas(NativeLibrary lib, MemorySegment stream) {
        this.library = lib.name;
        cublasDestroy = lib.function("cublasDestroy_v2", ADDRESS);
        cublasSgemmStridedBatched = lib.function("cublasSgemmStridedBatched", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
        MemorySegment out = arena.allocate(ADDRESS);
        check(NativeLibrary.call(lib.function("cublasCreate_v2", ADDRESS), out), "cublasCreate");
        handle = out.get(ADDRESS, 0);
        check(NativeLibrary.call(lib.function("cublasSetStream_v2", ADDRESS, ADDRESS), handle, stream),
                "cublasSetStream");
        check(NativeLibrary.call(lib.function("cublasSetMathMode", ADDRESS, JAVA_INT), handle, PEDANTIC_MATH),
                "cublasSetMathMode");
        alpha = arena.allocate(JAVA_FLOAT);
        alpha.set(JAVA_FLOAT, 0, 1f);
        beta = arena.allocate(JAVA_FLOAT);
    }

    /** cuBLAS on {@code stream} (the current context's), or empty when no {@link #LIBRARIES library} is found. */
    static Optional<Cublas> open(MemorySegment stream) {
        return NativeLibrary.open(LIBRARIES).map(lib -> new Cublas(lib, stream));
    }

    /**
     * Runs {@code gemm} on device arrays: {@code first}, {@code second} and {@code c} are the device
     * addresses of its first operand, second operand and C.
     */
    void run(CublasGemm gemm, long first, long second, long c) {
        beta.set(JAVA_FLOAT, 0, gemm.beta());
        check(NativeLibrary.call(cublasSgemmStridedBatched, handle, gemm.transFirst() ? 1 : 0,
                gemm.transSecond() ? 1 : 0, gemm.m(), gemm.n(), gemm.k(), alpha, first, gemm.ldFirst(),
                gemm.strideFirst(), second, gemm.ldSecond(), gemm.strideSecond(), beta, c, gemm.ldc(), gemm.strideC(),
                gemm.batch()), "cublasSgemmStridedBatched " + gemm);
    }

    @Override
    public void close() {
        check(NativeLibrary.call(cublasDestroy, handle), "cublasDestroy");
        arena.close();
    }

    private static void check(int status, String what) {
        if (status != 0) {
            throw new CudaException(what + " failed: cublasStatus_t " + status, status);
        }
    }
}
