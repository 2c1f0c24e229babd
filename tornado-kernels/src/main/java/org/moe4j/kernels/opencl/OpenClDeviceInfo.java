package org.moe4j.kernels.opencl;

/**
 * One OpenCL device as {@link OpenClDevice#list()} reports it.
 *
 * @param index            position across all platforms: {@code opencl:<index>}
 * @param platform         platform name ({@code Portable Computing Language})
 * @param name             device name
 * @param version          device OpenCL version string
 * @param type             {@code GPU}, {@code CPU}, {@code ACCELERATOR} or {@code OTHER}
 * @param computeUnits     parallel compute units
 * @param globalMemBytes   global memory
 * @param maxAllocBytes    largest single buffer
 * @param localMemBytes    local memory per work-group
 * @param maxWorkGroupSize largest work-group the device takes
 * @param fp64             whether it has double precision
 */
public record OpenClDeviceInfo(int index, String platform, String name, String version, String type, int computeUnits,
                               long globalMemBytes, long maxAllocBytes, long localMemBytes, long maxWorkGroupSize,
                               boolean fp64) {

    /** One line for listings. */
    public String describe() {
        return String.format("opencl:%d  %s [%s] %s, %d compute units, %d MiB global, %d KiB local, fp64 %s",
                index, name, type, platform, computeUnits, globalMemBytes >> 20, localMemBytes >> 10,
                fp64 ? "yes" : "no");
    }
}
