package org.moe4j.kernels.opencl;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.moe4j.kernels.BufferedDevice;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.Launch;
import org.moe4j.kernels.ResidentBuffers;
import org.moe4j.kernels.compiler.CompiledKernel;
import org.moe4j.kernels.compiler.KernelParam;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.compiler.OpenClCompiler;

/**
 * An OpenCL device (through JOCL): kernels are translated from their bytecode by
 * {@link OpenClCompiler}, built once per kernel, and launched on device buffers.
 *
 * <p>Host arrays are the handles; {@link ResidentBuffers} ({@link BufferedDevice}) keeps a buffer per array and knows which
 * side is newer: a zeroed array and buffer from {@link #allocateFloats} need no copy,
 * {@link #copyToDevice} uploads, a launch uploads the arrays it has never seen and marks those the
 * kernel stores into (found in its bytecode) newer on the device, and {@link #copyToHost}
 * downloads only then. So data stays on the device between kernels and moves only when the host asks.
 *
 * <p>Launches run in order on one in-order queue. Not for concurrent use by several threads beyond
 * what the {@code synchronized} methods serialise.
 */
public final class OpenClDevice extends BufferedDevice<cl_mem> {
    private static final System.Logger LOG = System.getLogger("org.moe4j.kernels.opencl");
    /** System property choosing the {@link MathMode} of devices opened without one: {@code relaxed} or {@code strict}. */
    public static final String MATH_PROPERTY = "moe4j.opencl.math";
    /** How to get a platform where there is none; part of every "no OpenCL" message. */
    public static final String HOW_TO_ENABLE = "install an OpenCL platform, for example PoCL on the CPU:"
            + " apt-get install pocl-opencl-icd ocl-icd-opencl-dev";

    private final OpenClDeviceInfo info;
    private final MathMode mode;
    private final cl_device_id deviceId;
    private final cl_context context;
    private final cl_command_queue queue;
    private final String buildOptions;
    private final Map<KernelMethod, Program> programs = new HashMap<>();
    private boolean closed;

    private record Program(cl_program program, cl_kernel kernel, CompiledKernel compiled, long maxWorkGroupSize) {
    }

    private OpenClDevice(OpenClDeviceInfo info, cl_platform_id platform, cl_device_id deviceId, MathMode mode) {
        this.info = info;
        this.mode = mode;
        this.deviceId = deviceId;
        try {
            cl_context_properties properties = new cl_context_properties();
            properties.addProperty(CL_CONTEXT_PLATFORM, platform);
            this.context = clCreateContext(properties, 1, new cl_device_id[] {deviceId}, null, null, null);
            this.queue = clCreateCommandQueue(context, deviceId, 0, null);
        } catch (CLException e) {
            throw new OpenClException("cannot open " + info.describe() + ": " + e.getMessage(), e.getStatus(), e);
        }
        long fpConfig = deviceLong(deviceId, CL_DEVICE_SINGLE_FP_CONFIG);
        // Java's float division and sqrt are correctly rounded; ask for the same where the device can.
        this.buildOptions = (fpConfig & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0
                ? "-cl-fp32-correctly-rounded-divide-sqrt" : "";
    }

    // ---- discovery

    /** Every OpenCL device of every platform, numbered across platforms; empty when there is no platform. */
    public static List<OpenClDeviceInfo> list() {
        return Discovery.get().infos;
    }

    /** Why {@link #list()} is empty, with how to fix it; null when there are devices. */
    public static String unavailableReason() {
        Discovery d = Discovery.get();
        return d.infos.isEmpty() ? d.reason + "; " + HOW_TO_ENABLE : null;
    }

    /** Opens device {@code index} of {@link #list()} with the math mode of {@value #MATH_PROPERTY} (relaxed by default). */
    public static OpenClDevice open(int index) {
        return open(index, MathMode.fromProperty(MATH_PROPERTY));
    }

    /** Opens device {@code index} of {@link #list()}. */
    public static OpenClDevice open(int index, MathMode mode) {
        Discovery d = Discovery.get();
        if (d.infos.isEmpty()) {
            throw new IllegalArgumentException("no OpenCL device: " + unavailableReason());
        }
        if (index < 0 || index >= d.infos.size()) {
            throw new IllegalArgumentException("opencl:" + index + " does not exist: devices are opencl:0 to opencl:"
                    + (d.infos.size() - 1));
        }
        return new OpenClDevice(d.infos.get(index), d.platforms.get(index), d.ids.get(index), mode);
    }

    private static final class Discovery {
        private static volatile Discovery instance;
        final List<OpenClDeviceInfo> infos = new ArrayList<>();
        final List<cl_platform_id> platforms = new ArrayList<>();
        final List<cl_device_id> ids = new ArrayList<>();
        String reason;

        static Discovery get() {
            Discovery d = instance;
            if (d == null) {
                synchronized (Discovery.class) {
                    if (instance == null) {
                        instance = new Discovery();
                    }
                    d = instance;
                }
            }
            return d;
        }

        private Discovery() {
            try {
                CL.setExceptionsEnabled(true);
                int[] count = new int[1];
                clGetPlatformIDs(0, null, count);
                cl_platform_id[] all = new cl_platform_id[count[0]];
                clGetPlatformIDs(all.length, all, null);
                for (cl_platform_id p : all) {
                    String platformName = platformString(p, CL_PLATFORM_NAME);
                    int[] n = new int[1];
                    try {
                        clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
                    } catch (CLException e) {
                        continue; // CL_DEVICE_NOT_FOUND: a platform without devices
                    }
                    cl_device_id[] devices = new cl_device_id[n[0]];
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, devices.length, devices, null);
                    for (cl_device_id id : devices) {
                        infos.add(describe(infos.size(), platformName, id));
                        platforms.add(p);
                        ids.add(id);
                    }
                }
                if (infos.isEmpty()) {
                    reason = all.length == 0 ? "no OpenCL platform found" : "OpenCL platforms found but no devices";
                }
            } catch (CLException e) {
                reason = "no OpenCL platform found (" + e.getMessage() + ")";
            } catch (LinkageError e) {
                reason = "the OpenCL library could not be loaded (" + e.getMessage() + ")";
            }
        }
    }

    private static OpenClDeviceInfo describe(int index, String platform, cl_device_id id) {
        long type = deviceLong(id, CL_DEVICE_TYPE);
        String typeName = (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU" : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU"
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "ACCELERATOR" : "OTHER";
        int[] units = new int[1];
        clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint, Pointer.to(units), null);
        return new OpenClDeviceInfo(index, platform, deviceString(id, CL_DEVICE_NAME), deviceString(id, CL_DEVICE_VERSION),
                typeName, units[0], deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                deviceLong(id, CL_DEVICE_LOCAL_MEM_SIZE), deviceSize(id, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                deviceLong(id, CL_DEVICE_DOUBLE_FP_CONFIG) != 0);
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buffer = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buffer.length, Pointer.to(buffer), null);
        return cString(buffer);
    }

    private static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buffer = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buffer.length, Pointer.to(buffer), null);
        return cString(buffer);
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8).trim();
    }

    private static long deviceLong(cl_device_id d, int param) {
        long[] value = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(value), null);
        return value[0];
    }

    private static long deviceSize(cl_device_id d, int param) {
        long[] value = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(value), null);
        return value[0];
    }

    // ---- Device

    @Override
    public String name() {
        return "opencl:" + info.index();
    }

    /** The device as it was discovered. */
    public OpenClDeviceInfo info() {
        return info;
    }

    public MathMode mathMode() {
        return mode;
    }

    /** The translated kernel this device runs for {@code launch}'s kernel (translating and building it if needed). */
    public synchronized CompiledKernel compiled(Launch launch) {
        return program(launch).compiled();
    }

    @Override
    public synchronized void launch(Launch launch) {
        ensureOpen();
        buffers.expunge();
        Program p = program(launch);
        CompiledKernel k = p.compiled();
        Object[] args = k.checkArguments(launch.args());
        Grid grid = launch.grid();
        if (grid.localSize() > p.maxWorkGroupSize()) {
            throw new OpenClException("cannot launch " + k.displayName() + " on " + name() + ": work-group of "
                    + grid.localX() + "x" + grid.localY() + " = " + grid.localSize() + " work-items, the kernel allows at most "
                    + p.maxWorkGroupSize() + " on this device", 0, null);
        }
        int index = 0;
        try {
            for (int i = 0; i < args.length; i++) {
                KernelParam param = k.params().get(i);
                Object a = args[i];
                if (param.kind().isArray()) {
                    cl_mem mem = buffers.forLaunch(a);
                    clSetKernelArg(p.kernel(), index++, Sizeof.cl_mem, Pointer.to(mem));
                    clSetKernelArg(p.kernel(), index++, Sizeof.cl_int,
                            Pointer.to(new int[] {java.lang.reflect.Array.getLength(a)}));
                } else {
                    setScalar(p.kernel(), index++, a);
                }
            }
            if (grid.globalX() == 0 || grid.globalY() == 0) {
                return;
            }
            boolean twoD = grid.globalY() > 1 || grid.localY() > 1;
            long[] global = twoD ? new long[] {grid.globalX(), grid.globalY()} : new long[] {grid.globalX()};
            long[] local = twoD ? new long[] {grid.localX(), grid.localY()} : new long[] {grid.localX()};
            clEnqueueNDRangeKernel(queue, p.kernel(), global.length, null, global, local, 0, null, null);
        } catch (CLException e) {
            throw failure("launching " + k.displayName() + " on grid " + grid.globalX() + "x" + grid.globalY()
                    + " in work-groups of " + grid.localX() + "x" + grid.localY() + " (local memory "
                    + k.localMemoryBytes() + " of " + info.localMemBytes() + " bytes)", e);
        }
        for (int i = 0; i < args.length; i++) {
            if (k.params().get(i).written()) {
                buffers.written(args[i]);
            }
        }
    }

    @Override
    public synchronized void finish() {
        clFinish(queue);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        buffers.freeAll();
        for (Program p : programs.values()) {
            clReleaseKernel(p.kernel());
            clReleaseProgram(p.program());
        }
        programs.clear();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    // ---- programs

    private Program program(Launch launch) {
        ensureOpen();
        KernelMethod method = KernelMethod.of(launch.kernel());
        Program known = programs.get(method);
        if (known != null) {
            return known;
        }
        CompiledKernel compiled = OpenClCompiler.compile(method, launch.kernel().getClass().getClassLoader(), mode);
        if (compiled.usesDouble() && !info.fp64()) {
            throw new OpenClException("kernel " + compiled.displayName() + " needs double precision ("
                    + (mode == MathMode.STRICT ? "strict math, or " : "") + "double arithmetic in the kernel) but "
                    + info.name() + " has no fp64 support" + (mode == MathMode.STRICT ? "; use relaxed math ("
                    + MATH_PROPERTY + "=relaxed)" : ""), 0, null);
        }
        if (compiled.localMemoryBytes() > info.localMemBytes()) {
            throw new OpenClException("kernel " + compiled.displayName() + " declares " + compiled.localMemoryBytes()
                    + " bytes of local memory, " + info.name() + " has " + info.localMemBytes(), 0, null);
        }
        long start = System.nanoTime();
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {compiled.source()}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {deviceId}, buildOptions, null, null);
        } catch (CLException e) {
            String log = buildLog(program);
            clReleaseProgram(program);
            throw new OpenClException("OpenCL build of kernel " + compiled.displayName() + " failed on " + info.name()
                    + " (" + CL.stringFor_errorCode(e.getStatus()) + "); build log:\n" + log + "\nsource:\n"
                    + compiled.source(), e.getStatus(), e);
        }
        cl_kernel kernel = clCreateKernel(program, compiled.kernelName(), null);
        long[] wg = new long[1];
        clGetKernelWorkGroupInfo(kernel, deviceId, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(wg), null);
        Program p = new Program(program, kernel, compiled, wg[0]);
        programs.put(method, p);
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("built %s on %s in %.1f ms", compiled.displayName(),
                name(), (System.nanoTime() - start) / 1e6));
        return p;
    }

    private String buildLog(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, deviceId, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buffer = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, deviceId, CL_PROGRAM_BUILD_LOG, buffer.length, Pointer.to(buffer), null);
            return cString(buffer);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    // ---- buffers

    @Override
    protected cl_mem allocate(Object array, long bytes) {
        if (bytes > info.maxAllocBytes()) {
            throw new OpenClException("out of device memory on " + name() + ": " + ResidentBuffers.describe(array)
                    + " needs " + bytes + " bytes, the largest buffer " + info.name() + " allows is "
                    + info.maxAllocBytes() + " bytes", 0, null);
        }
        try {
            return clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        } catch (CLException e) {
            throw failure("allocating " + bytes + " bytes for " + ResidentBuffers.describe(array), e);
        }
    }

    @Override
    protected void zero(cl_mem buffer, long bytes) {
        try {
            clEnqueueFillBuffer(queue, buffer, Pointer.to(new int[] {0}), Sizeof.cl_int, 0, bytes, 0, null, null);
        } catch (CLException e) {
            throw failure("zeroing a buffer of " + bytes + " bytes", e);
        }
    }

    @Override
    protected void upload(Object array, cl_mem buffer, long bytes) {
        copy(true, array, buffer, bytes);
    }

    @Override
    protected void download(cl_mem buffer, Object array, long bytes) {
        copy(false, array, buffer, bytes);
    }

    /** A blocking copy between {@code array} and {@code buffer}, either way. */
    private void copy(boolean toDevice, Object array, cl_mem buffer, long bytes) {
        try {
            if (toDevice) {
                clEnqueueWriteBuffer(queue, buffer, CL_TRUE, 0, bytes, pointer(array), 0, null, null);
            } else {
                clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, bytes, pointer(array), 0, null, null);
            }
        } catch (CLException e) {
            throw failure((toDevice ? "copying " : "reading ") + ResidentBuffers.describe(array)
                    + (toDevice ? " to the device" : " back from the device"), e);
        }
    }

    @Override
    protected void free(cl_mem buffer) {
        clReleaseMemObject(buffer);
    }

    private OpenClException failure(String what, CLException e) {
        int status = e.getStatus();
        boolean memory = status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES
                || status == CL_OUT_OF_HOST_MEMORY;
        String message = (memory ? "out of device memory or resources on " : "OpenCL error on ") + name() + " ("
                + info.name() + ") while " + what + ": " + CL.stringFor_errorCode(status)
                + (memory ? "; the device holds " + buffers.deviceBytes() + " bytes in " + buffers.count() + " buffers, global memory "
                + info.globalMemBytes() + " bytes, largest buffer " + info.maxAllocBytes() + " bytes" : "");
        return new OpenClException(message, status, e);
    }

    @Override
    protected void enter() {
        ensureOpen();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("device " + name() + " is closed");
        }
    }

    private static Pointer pointer(Object array) {
        return switch (array) {
            case float[] f -> Pointer.to(f);
            case int[] i -> Pointer.to(i);
            case long[] l -> Pointer.to(l);
            case double[] d -> Pointer.to(d);
            default -> throw new IllegalArgumentException(array.getClass().getSimpleName());
        };
    }

    /** A scalar argument, already checked and unboxed by {@link CompiledKernel#checkArguments}. */
    private static void setScalar(cl_kernel kernel, int index, Object a) {
        switch (a) {
            case Integer v -> clSetKernelArg(kernel, index, Sizeof.cl_int, Pointer.to(new int[] {v}));
            case Long v -> clSetKernelArg(kernel, index, Sizeof.cl_long, Pointer.to(new long[] {v}));
            case Float v -> clSetKernelArg(kernel, index, Sizeof.cl_float, Pointer.to(new float[] {v}));
            case Double v -> clSetKernelArg(kernel, index, Sizeof.cl_double, Pointer.to(new double[] {v}));
            default -> throw new IllegalStateException("not a checked scalar: " + a);
        }
    }
}
