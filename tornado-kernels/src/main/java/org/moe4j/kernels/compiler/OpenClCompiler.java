package org.moe4j.kernels.compiler;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.KernelRef;

/**
 * Translates kernel methods to OpenCL C: their bytecode (read with {@code java.lang.classfile}) into
 * a small typed IR, then the IR into C with labels and gotos. Helpers the kernel calls become
 * device functions. Anything outside the supported subset throws {@link KernelCompileException}.
 * Results are cached per kernel method and math mode; translation time is logged at debug level
 * on the logger {@code org.moe4j.kernels.compiler}.
 *
 * <p>See {@code docs/kernels.md} for the subset and the semantics rules.
 */
public final class OpenClCompiler {
    private static final System.Logger LOG = System.getLogger("org.moe4j.kernels.compiler");
    private static final Map<Key, CompiledKernel> CACHE = new ConcurrentHashMap<>();

    private record Key(KernelMethod method, ClassLoader loader, MathMode mode) {
    }

    private OpenClCompiler() {
    }

    /** Translates the kernel behind a method reference. */
    public static CompiledKernel compile(KernelRef kernel, MathMode mode) {
        return compile(KernelMethod.of(kernel), kernel.getClass().getClassLoader(), mode);
    }

    /** Translates a kernel method found by reflection ({@code public static void}, KernelContext first). */
    public static CompiledKernel compile(java.lang.reflect.Method method, MathMode mode) {
        return compile(KernelMethod.of(method), method.getDeclaringClass().getClassLoader(), mode);
    }

    /**
     * Translates {@code method}, whose class (and its helpers' classes) {@code loader} can read.
     *
     * @throws KernelCompileException when the method uses a construct outside the supported subset
     */
    public static CompiledKernel compile(KernelMethod method, ClassLoader loader, MathMode mode) {
        return CACHE.computeIfAbsent(new Key(method, loader, mode), k -> translate(method, loader, mode));
    }

    private static CompiledKernel translate(KernelMethod method, ClassLoader loader, MathMode mode) {
        long start = System.nanoTime();
        KernelTranslation translation = KernelTranslation.of(method, loader, mode);
        OpenClPrinter printer = new OpenClPrinter();
        String source = printer.program(translation.javaName(), mode, translation.unit.order);
        CompiledKernel compiled = translation.compiled(source, printer.usesDouble());
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("translated %s (%s math) to OpenCL C in %.2f ms: %d lines",
                method.displayName(), mode.name().toLowerCase(), (System.nanoTime() - start) / 1e6,
                source.lines().count()));
        return compiled;
    }
}
