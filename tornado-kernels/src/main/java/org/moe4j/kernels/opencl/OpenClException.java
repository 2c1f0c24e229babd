package org.moe4j.kernels.opencl;

/**
 * An OpenCL call failed: a program did not build (the message carries the build log), memory ran
 * out (with the sizes asked for and available), or a launch was refused (with the grid and limits).
 */
public final class OpenClException extends RuntimeException {
    private final int status;

    public OpenClException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The OpenCL status code ({@code CL_OUT_OF_RESOURCES} is -5), or 0 when the failure was found before a call. */
    public int status() {
        return status;
    }
}
