package org.moe4j.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA driver API ({@code libcuda.so.1}, installed with the NVIDIA driver) through
 * {@code java.lang.foreign}: the calls the CUDA device makes, each checked, a failure thrown as a
 * {@link CudaException} that names the call and the status. This class is also the one place that
 * decides whether CUDA is here: {@link #available()} and {@link #unavailableReason()}, which every
 * CUDA test and {@code --device cuda} use.
 */
public final class CudaDriver {
    /** The driver's library; the CUDA toolkit is not needed, only the NVIDIA driver. */
    static final String LIBRARY = "libcuda.so.1";

    static final int ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    static final int ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
    static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    static final int FUNCTION_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
    /** {@code CUjit_option}s: the info and error log buffers and their sizes, and verbose logging. */
    static final int JIT_INFO_LOG_BUFFER = 3;
    static final int JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    static final int JIT_ERROR_LOG_BUFFER = 5;
    static final int JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    static final int JIT_LOG_VERBOSE = 12;

    private final MethodHandle cuInit;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuDevicePrimaryCtxRelease;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuStreamDestroy;
    private final MethodHandle cuModuleLoadDataEx;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuFuncGetAttribute;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemsetD8;
    private final MethodHandle cuMemcpyHtoD;
    private final MethodHandle cuMemcpyDtoH;
    private final MethodHandle cuLaunchKernel;

    private CudaDriver(NativeLibrary lib) {
        cuInit = lib.function("cuInit", JAVA_INT);
        cuGetErrorName = lib.function("cuGetErrorName", JAVA_INT, ADDRESS);
        cuDeviceGetCount = lib.function("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = lib.function("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = lib.function("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = lib.function("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDeviceGetAttribute = lib.function("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDevicePrimaryCtxRetain = lib.function("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = lib.function("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = lib.function("cuCtxSetCurrent", ADDRESS);
        cuStreamCreate = lib.function("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = lib.function("cuStreamSynchronize", ADDRESS);
        cuStreamDestroy = lib.function("cuStreamDestroy_v2", ADDRESS);
        cuModuleLoadDataEx = lib.function("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        cuModuleGetFunction = lib.function("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuModuleUnload = lib.function("cuModuleUnload", ADDRESS);
        cuFuncGetAttribute = lib.function("cuFuncGetAttribute", ADDRESS, JAVA_INT, ADDRESS);
        cuMemAlloc = lib.function("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = lib.function("cuMemFree_v2", JAVA_LONG);
        cuMemsetD8 = lib.function("cuMemsetD8_v2", JAVA_LONG, JAVA_BYTE, JAVA_LONG);
        cuMemcpyHtoD = lib.criticalFunction("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = lib.criticalFunction("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuLaunchKernel = lib.function("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    }

    // ---- availability

    /** The driver, or why there is none; found once. */
    private record Loaded(CudaDriver driver, List<CudaDeviceInfo> devices, String reason) {
    }

    private static final class Holder {
        static final Loaded LOADED = load();
    }

    private static Loaded load() {
        Optional<NativeLibrary> lib = NativeLibrary.open(LIBRARY);
        if (lib.isEmpty()) {
            return new Loaded(null, List.of(), LIBRARY + " not found: no NVIDIA driver on this machine (the CUDA device"
                    + " needs the NVIDIA driver, not the CUDA toolkit)");
        }
        try {
            CudaDriver driver = new CudaDriver(lib.get());
            int status = driver.status(driver.cuInit, 0);
            if (status != 0) {
                return new Loaded(null, List.of(), "cuInit failed: " + driver.errorName(status)
                        + " (the NVIDIA driver is installed but no usable GPU was found)");
            }
            List<CudaDeviceInfo> devices = driver.describeDevices();
            return devices.isEmpty() ? new Loaded(null, List.of(), "the NVIDIA driver reports no CUDA device")
                    : new Loaded(driver, devices, null);
        } catch (UnsatisfiedLinkError | IllegalCallerException | CudaException e) {
            return new Loaded(null, List.of(), LIBRARY + " could not be used: " + e.getMessage());
        }
    }

    /** Whether a CUDA driver and at least one CUDA device are here. */
    public static boolean available() {
        return Holder.LOADED.driver() != null;
    }

    /** Why CUDA cannot be used here; null when it can. */
    public static String unavailableReason() {
        return Holder.LOADED.reason();
    }

    /** The CUDA devices, numbered by CUDA ordinal; empty when {@link #available()} is false. */
    public static List<CudaDeviceInfo> devices() {
        return Holder.LOADED.devices();
    }

    /** The driver; fails with {@link #unavailableReason()} where there is none. */
    static CudaDriver get() {
        Loaded loaded = Holder.LOADED;
        if (loaded.driver() == null) {
            throw new IllegalStateException("no CUDA device: " + loaded.reason());
        }
        return loaded.driver();
    }

    private List<CudaDeviceInfo> describeDevices() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            check(cuDeviceGetCount, "cuDeviceGetCount", count);
            List<CudaDeviceInfo> devices = new ArrayList<>();
            for (int i = 0; i < count.get(JAVA_INT, 0); i++) {
                int device = device(i);
                MemorySegment name = arena.allocate(256);
                check(cuDeviceGetName, "cuDeviceGetName", name, 256, device);
                MemorySegment memory = arena.allocate(JAVA_LONG);
                check(cuDeviceTotalMem, "cuDeviceTotalMem", memory, device);
                devices.add(new CudaDeviceInfo(i, name.getString(0), attribute(device, ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                        attribute(device, ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), memory.get(JAVA_LONG, 0),
                        attribute(device, ATTRIBUTE_MULTIPROCESSOR_COUNT), attribute(device, ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                        attribute(device, ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK)));
            }
            return devices;
        }
    }

    // ---- the calls the device makes

    int device(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = arena.allocate(JAVA_INT);
            check(cuDeviceGet, "cuDeviceGet", device, ordinal);
            return device.get(JAVA_INT, 0);
        }
    }

    private int attribute(int device, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            check(cuDeviceGetAttribute, "cuDeviceGetAttribute", value, attribute, device);
            return value.get(JAVA_INT, 0);
        }
    }

    /** Retains the device's primary context (the one the CUDA runtime, and so cuBLAS, uses too). */
    MemorySegment retainPrimaryContext(int device) {
        return out(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", device);
    }

    void releasePrimaryContext(int device) {
        check(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease", device);
    }

    void setCurrent(MemorySegment context) {
        check(cuCtxSetCurrent, "cuCtxSetCurrent", context);
    }

    /** A stream that orders after the legacy default stream, on which the synchronous copies run. */
    MemorySegment createStream() {
        return out(cuStreamCreate, "cuStreamCreate", 0);
    }

    void synchronize(MemorySegment stream) {
        check(cuStreamSynchronize, "cuStreamSynchronize (an earlier launch may have failed)", stream);
    }

    void destroyStream(MemorySegment stream) {
        check(cuStreamDestroy, "cuStreamDestroy", stream);
    }

    /** {@code cuModuleLoadDataEx}'s status; {@code module} receives the module. */
    int loadModule(MemorySegment module, MemorySegment image, int options, MemorySegment keys, MemorySegment values) {
        return status(cuModuleLoadDataEx, module, image, options, keys, values);
    }

    MemorySegment function(MemorySegment module, MemorySegment name) {
        return out(cuModuleGetFunction, "cuModuleGetFunction", module, name);
    }

    void unloadModule(MemorySegment module) {
        check(cuModuleUnload, "cuModuleUnload", module);
    }

    int maxThreadsPerBlock(MemorySegment function) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            check(cuFuncGetAttribute, "cuFuncGetAttribute", value, FUNCTION_ATTRIBUTE_MAX_THREADS_PER_BLOCK, function);
            return value.get(JAVA_INT, 0);
        }
    }

    /** {@code cuMemAlloc}'s status; {@code pointer} receives the device address. */
    int allocate(MemorySegment pointer, long bytes) {
        return status(cuMemAlloc, pointer, bytes);
    }

    void free(long pointer) {
        check(cuMemFree, "cuMemFree", pointer);
    }

    void zero(long pointer, long bytes) {
        check(cuMemsetD8, "cuMemsetD8", pointer, (byte) 0, bytes);
    }

    /** Copies {@code bytes} from a host segment (a Java array's, passed in place) to the device. */
    void copyToDevice(long pointer, MemorySegment host, long bytes) {
        check(cuMemcpyHtoD, "cuMemcpyHtoD", pointer, host, bytes);
    }

    /** Copies {@code bytes} from the device into a host segment; waits for the launches before it. */
    void copyToHost(MemorySegment host, long pointer, long bytes) {
        check(cuMemcpyDtoH, "cuMemcpyDtoH (an earlier launch may have failed)", host, pointer, bytes);
    }

    void launch(MemorySegment function, int groupsX, int groupsY, int localX, int localY, MemorySegment stream,
                MemorySegment params) {
        check(cuLaunchKernel, "cuLaunchKernel", function, groupsX, groupsY, 1, localX, localY, 1, 0, stream, params,
                MemorySegment.NULL);
    }

    /** {@code CUDA_ERROR_OUT_OF_MEMORY} for 2: the name the driver gives a status. */
    String errorName(int status) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(ADDRESS);
            if (status(cuGetErrorName, status, name) != 0) {
                return "CUresult " + status;
            }
            return name.get(ADDRESS, 0).reinterpret(256).getString(0);
        }
    }

    // ---- calling

    private MemorySegment out(MethodHandle function, String what, Object... rest) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = arena.allocate(ADDRESS);
            Object[] args = new Object[rest.length + 1];
            args[0] = handle;
            System.arraycopy(rest, 0, args, 1, rest.length);
            check(function, what, args);
            return handle.get(ADDRESS, 0);
        }
    }

    private void check(MethodHandle function, String what, Object... args) {
        int status = status(function, args);
        if (status != 0) {
            throw new CudaException(what + " failed: " + errorName(status), status);
        }
    }

    private int status(MethodHandle function, Object... args) {
        return NativeLibrary.call(function, args);
    }
}
