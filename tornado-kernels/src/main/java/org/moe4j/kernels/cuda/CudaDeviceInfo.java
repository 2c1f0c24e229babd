package org.moe4j.kernels.cuda;

/**
 * One CUDA device as {@link CudaDriver#devices()} reports it.
 *
 * @param index              CUDA ordinal: {@code cuda:<index>}
 * @param name               device name ({@code NVIDIA H100 80GB HBM3})
 * @param major              compute capability, major
 * @param minor              compute capability, minor
 * @param totalMemBytes      global memory
 * @param multiprocessors    streaming multiprocessors
 * @param maxThreadsPerBlock the largest block (work-group) a launch may have
 * @param sharedMemPerBlock  shared (work-group local) memory a block may use
 */
public record CudaDeviceInfo(int index, String name, int major, int minor, long totalMemBytes, int multiprocessors,
                             int maxThreadsPerBlock, long sharedMemPerBlock) {

    /** One line for listings. */
    public String describe() {
        return String.format("cuda:%d    %s, compute capability %d.%d, %d multiprocessors, %d MiB", index, name, major,
                minor, multiprocessors, totalMemBytes >> 20);
    }
}
