package org.moe4j.kernels.cuda;

/**
 * A CUDA driver or cuBLAS call failed: the message names the call, the device, the status by name
 * and, for a module that did not load, the JIT's error and info logs and the PTX.
 */
public final class CudaException extends RuntimeException {
    private final int status;

    public CudaException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The {@code CUresult} or {@code cublasStatus_t}, or 0 when the failure was found before a call. */
    public int status() {
        return status;
    }
}
