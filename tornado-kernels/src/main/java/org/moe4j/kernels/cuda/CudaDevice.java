package org.moe4j.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.moe4j.kernels.BufferedDevice;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.Launch;
import org.moe4j.kernels.ResidentBuffers;
import org.moe4j.kernels.compiler.CompiledKernel;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.compiler.PtxCompiler;
import org.moe4j.kernels.compiler.PtxTarget;

/**
 * A CUDA GPU through the driver API: kernels are translated from their bytecode to PTX by
 * {@link PtxCompiler}, loaded once per kernel with {@code cuModuleLoadDataEx} (the driver
 * JIT-compiles the PTX for the GPU it has), and launched in order on one stream of the device's
 * primary context. The GEMM kernels run on cuBLAS where {@code libcublas} is found
 * ({@link CublasGemm}), else compiled like every other kernel; which one is logged when the device opens.
 *
 * <p>Buffers follow {@link ResidentBuffers}' rules ({@link BufferedDevice}), as on OpenCL: a host array is uploaded when the
 * host wrote it or a launch first sees it, and downloaded only when a kernel wrote it. Not for
 * concurrent use beyond what the {@code synchronized} methods serialise.
 */
public final class CudaDevice extends BufferedDevice<Long> {
    private static final System.Logger LOG = System.getLogger("org.moe4j.kernels.cuda");
    /** System property choosing the {@link MathMode} of devices opened without one: {@code relaxed} or {@code strict}. */
    public static final String MATH_PROPERTY = "moe4j.cuda.math";
    /** System property that keeps GEMMs on the compiled kernels when {@code false} (cuBLAS is used where found). */
    public static final String CUBLAS_PROPERTY = "moe4j.cuda.cublas";
    private static final int JIT_LOG_BYTES = 64 * 1024;

    private final CudaDeviceInfo info;
    private final MathMode mode;
    private final PtxTarget target;
    private final CudaDriver driver;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final Map<KernelMethod, Module> modules = new HashMap<>();
    private final Cublas cublas;
    private final String gemms;
    private boolean closed;

    private record Module(MemorySegment module, MemorySegment function, CompiledKernel compiled, int maxThreads) {
    }

    private CudaDevice(CudaDeviceInfo info, MathMode mode, boolean useCublas) {
        this.info = info;
        this.mode = mode;
        this.target = PtxTarget.configured();
        this.driver = CudaDriver.get();
        this.device = driver.device(info.index());
        this.context = driver.retainPrimaryContext(device);
        driver.setCurrent(context);
        this.stream = driver.createStream();
        Cublas found = null;
        String failure = null;
        if (useCublas) {
            try {
                found = Cublas.open(stream).orElse(null);
            } catch (CudaException | UnsatisfiedLinkError e) {
                failure = e.getMessage();
            }
        }
        this.cublas = found;
        this.gemms = describeGemms(useCublas, found == null ? null : found.library, failure);
        LOG.log(System.Logger.Level.INFO, "{0} ({1}): PTX for {2}, {3} math; GEMMs on {4}", name(), info.name(),
                target.name(), mode.name().toLowerCase(), gemms);
    }

    /** Every CUDA device, by ordinal; empty without a driver or GPU. */
    public static List<CudaDeviceInfo> list() {
        return CudaDriver.devices();
    }

    /** Why there is no CUDA device, or null when there is one. */
    public static String unavailableReason() {
        return CudaDriver.unavailableReason();
    }

    /**
     * Opens {@code cuda:index} with the math mode of {@value #MATH_PROPERTY} (relaxed by default),
     * GEMMs on cuBLAS unless {@value #CUBLAS_PROPERTY} is {@code false}.
     */
    public static CudaDevice open(int index) {
        return open(index, MathMode.fromProperty(MATH_PROPERTY),
                !"false".equals(System.getProperty(CUBLAS_PROPERTY, "true")));
    }

    /**
     * Opens {@code cuda:index}.
     *
     * @param useCublas run the GEMM kernels on cuBLAS where it is found; false compiles them like the others
     * @throws IllegalArgumentException when there is no such device, with why there is none
     */
    public static CudaDevice open(int index, MathMode mode, boolean useCublas) {
        List<CudaDeviceInfo> devices = list();
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("no CUDA device: " + unavailableReason());
        }
        if (index < 0 || index >= devices.size()) {
            throw new IllegalArgumentException("cuda:" + index + " does not exist: devices are cuda:0 to cuda:"
                    + (devices.size() - 1));
        }
        return new CudaDevice(devices.get(index), mode, useCublas);
    }

    /**
     * What runs the GEMM kernels, as the device logs it when it opens.
     *
     * @param requested     whether cuBLAS was asked for
     * @param cublasLibrary the library opened, or null
     * @param failure       why a library that was found could not be used, or null
     */
    static String describeGemms(boolean requested, String cublasLibrary, String failure) {
        if (!requested) {
            return "the compiled tiled kernels (" + CUBLAS_PROPERTY + "=false)";
        }
        if (failure != null) {
            return "the compiled tiled kernels (cuBLAS found but not usable: " + failure + ")";
        }
        if (cublasLibrary == null) {
            return "the compiled tiled kernels (cuBLAS not found: tried " + String.join(", ", Cublas.LIBRARIES) + ")";
        }
        return "cuBLAS (" + cublasLibrary + ", pedantic math: no TF32)";
    }

    // ---- Device

    @Override
    public String name() {
        return "cuda:" + info.index();
    }

    public CudaDeviceInfo info() {
        return info;
    }

    public MathMode mathMode() {
        return mode;
    }

    /** What runs the GEMM kernels: cuBLAS and its library, or the compiled kernels and why. */
    public String gemms() {
        return gemms;
    }

    /** With cuBLAS, its plain GEMMs and a separate pass beat a compiled GEMM with the pass in its store. */
    @Override
    public boolean fusesGemmEpilogues() {
        return cublas == null;
    }

    /** The PTX this device runs for {@code launch}'s kernel (translating and loading it if needed). */
    public synchronized CompiledKernel compiled(Launch launch) {
        enter();
        return module(launch).compiled();
    }

    @Override
    public synchronized void launch(Launch launch) {
        enter();
        buffers.expunge();
        CublasGemm gemm = cublas == null ? null : CublasGemm.of(launch);
        if (gemm != null) {
            runOnCublas(gemm, launch.args());
            return;
        }
        Module m = module(launch);
        CompiledKernel k = m.compiled();
        Object[] args = k.checkArguments(launch.args());
        Grid grid = launch.grid();
        if (grid.localSize() > m.maxThreads()) {
            throw new CudaException("cannot launch " + k.displayName() + " on " + name() + ": work-group of "
                    + grid.localX() + "x" + grid.localY() + " = " + grid.localSize() + " threads, the kernel allows at most "
                    + m.maxThreads() + " on " + info.name(), 0);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = KernelParams.pack(arena, k, args, buffers::forLaunch);
            if (grid.globalX() == 0 || grid.globalY() == 0) {
                return;
            }
            driver.launch(m.function(), grid.groupsX(), grid.groupsY(), grid.localX(), grid.localY(), stream, params);
        }
        for (int i = 0; i < args.length; i++) {
            if (k.params().get(i).written()) {
                buffers.written(args[i]);
            }
        }
    }

    private void runOnCublas(CublasGemm gemm, Object[] args) {
        for (int i = 0; i < 3; i++) {
            if (!(args[i] instanceof float[])) {
                throw new IllegalArgumentException("GEMM argument " + i + " is not a float[]: " + args[i]);
            }
        }
        long c = buffers.forLaunch(args[CublasGemm.C]);
        long first = buffers.forLaunch(args[gemm.first()]);
        long second = buffers.forLaunch(args[gemm.second()]);
        if (!gemm.empty()) {
            cublas.run(gemm, first, second, c);
        }
        buffers.written(args[CublasGemm.C]);
    }

    @Override
    public synchronized void finish() {
        enter();
        driver.synchronize(stream);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        enter();
        closed = true;
        driver.synchronize(stream);
        buffers.freeAll();
        for (Module m : modules.values()) {
            driver.unloadModule(m.module());
        }
        modules.clear();
        if (cublas != null) {
            cublas.close();
        }
        driver.destroyStream(stream);
        driver.releasePrimaryContext(device);
    }

    /** Checks the device is open and makes its context current on the calling thread. */
    @Override
    protected void enter() {
        if (closed) {
            throw new IllegalStateException("device " + name() + " is closed");
        }
        driver.setCurrent(context);
    }

    // ---- modules

    private Module module(Launch launch) {
        KernelMethod method = KernelMethod.of(launch.kernel());
        Module known = modules.get(method);
        if (known != null) {
            return known;
        }
        CompiledKernel compiled = PtxCompiler.compile(method, launch.kernel().getClass().getClassLoader(), mode, target);
        if (compiled.localMemoryBytes() > info.sharedMemPerBlock()) {
            throw new CudaException("kernel " + compiled.displayName() + " declares " + compiled.localMemoryBytes()
                    + " bytes of local memory, " + info.name() + " has " + info.sharedMemPerBlock() + " per block", 0);
        }
        long start = System.nanoTime();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment infoLog = arena.allocate(JIT_LOG_BYTES);
            MemorySegment errorLog = arena.allocate(JIT_LOG_BYTES);
            MemorySegment keys = arena.allocateFrom(JAVA_INT, CudaDriver.JIT_INFO_LOG_BUFFER,
                    CudaDriver.JIT_INFO_LOG_BUFFER_SIZE_BYTES, CudaDriver.JIT_ERROR_LOG_BUFFER,
                    CudaDriver.JIT_ERROR_LOG_BUFFER_SIZE_BYTES, CudaDriver.JIT_LOG_VERBOSE);
            MemorySegment values = arena.allocate(ADDRESS, 5);
            values.setAtIndex(ADDRESS, 0, infoLog);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(JIT_LOG_BYTES));
            values.setAtIndex(ADDRESS, 2, errorLog);
            values.setAtIndex(ADDRESS, 3, MemorySegment.ofAddress(JIT_LOG_BYTES));
            values.setAtIndex(ADDRESS, 4, MemorySegment.ofAddress(1));
            MemorySegment module = arena.allocate(ADDRESS);
            int status = driver.loadModule(module, arena.allocateFrom(compiled.source()), 5, keys, values);
            if (status != 0) {
                throw new CudaException("cuModuleLoadDataEx of kernel " + compiled.displayName() + " failed on " + name()
                        + " (" + info.name() + ", compute capability " + info.major() + "." + info.minor() + "): "
                        + driver.errorName(status) + "; JIT error log:\n" + errorLog.getString(0) + "\nJIT info log:\n"
                        + infoLog.getString(0) + "\nPTX:\n" + compiled.source(), status);
            }
            MemorySegment handle = module.get(ADDRESS, 0);
            MemorySegment function = driver.function(handle, arena.allocateFrom(compiled.kernelName()));
            Module m = new Module(handle, function, compiled, driver.maxThreadsPerBlock(function));
            modules.put(method, m);
            LOG.log(System.Logger.Level.DEBUG, () -> String.format("loaded %s on %s in %.1f ms: %s",
                    compiled.displayName(), name(), (System.nanoTime() - start) / 1e6, infoLog.getString(0).strip()));
            return m;
        }
    }

    // ---- buffers

    @Override
    protected Long allocate(Object array, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(JAVA_LONG);
            int status = driver.allocate(pointer, bytes);
            if (status != 0) {
                throw new CudaException("out of device memory on " + name() + " (" + info.name() + ") allocating "
                        + bytes + " bytes for " + ResidentBuffers.describe(array) + ": " + driver.errorName(status)
                        + "; the device holds " + buffers.deviceBytes() + " bytes in " + buffers.count()
                        + " buffers of " + info.totalMemBytes() + " bytes", status);
            }
            return pointer.get(JAVA_LONG, 0);
        }
    }

    @Override
    protected void zero(Long buffer, long bytes) {
        driver.zero(buffer, bytes);
    }

    @Override
    protected void upload(Object array, Long buffer, long bytes) {
        driver.copyToDevice(buffer, heap(array), bytes);
    }

    @Override
    protected void download(Long buffer, Object array, long bytes) {
        driver.copyToHost(heap(array), buffer, bytes);
    }

    @Override
    protected void free(Long buffer) {
        driver.free(buffer);
    }

    /** The Java array itself as a segment, passed to the copies in place. */
    private static MemorySegment heap(Object array) {
        return switch (array) {
            case float[] f -> MemorySegment.ofArray(f);
            case int[] i -> MemorySegment.ofArray(i);
            case long[] l -> MemorySegment.ofArray(l);
            case double[] d -> MemorySegment.ofArray(d);
            default -> throw new IllegalArgumentException(array.getClass().getSimpleName());
        };
    }
}
