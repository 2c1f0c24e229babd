package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.List;
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
        String descriptor = java.lang.invoke.MethodType.methodType(method.getReturnType(), method.getParameterTypes())
                .toMethodDescriptorString();
        KernelMethod km = new KernelMethod(method.getDeclaringClass().getName().replace('.', '/'), method.getName(),
                descriptor, false);
        return compile(km, method.getDeclaringClass().getClassLoader(), mode);
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
        Compilation unit = new Compilation(method, loader, mode);
        Ir.Function kernel = unit.translateKernel(method);
        OpenClPrinter printer = new OpenClPrinter();
        String source = printer.program(method.className().replace('/', '.') + "." + method.methodName(), mode,
                unit.order);
        List<KernelParam> params = new ArrayList<>();
        for (int i = 0; i < kernel.params.size(); i++) {
            Ir.Param p = kernel.params.get(i);
            String name = p.name().endsWith("_") ? p.name().substring(0, p.name().length() - 1) : p.name();
            KernelParam.Kind kind = switch (p.type()) {
                case INT -> p.isArray() ? KernelParam.Kind.INT_ARRAY : KernelParam.Kind.INT;
                case LONG -> p.isArray() ? KernelParam.Kind.LONG_ARRAY : KernelParam.Kind.LONG;
                case FLOAT -> p.isArray() ? KernelParam.Kind.FLOAT_ARRAY : KernelParam.Kind.FLOAT;
                case DOUBLE -> p.isArray() ? KernelParam.Kind.DOUBLE_ARRAY : KernelParam.Kind.DOUBLE;
            };
            params.add(new KernelParam(name, kind, p.isArray() && kernel.writtenParams.get(i)));
        }
        long localBytes = 0;
        for (Ir.ArrayRef a : kernel.localArrays) {
            localBytes += (long) ((Ir.Const) a.length).value().intValue() * (a.element.wide() ? 8 : 4);
        }
        CompiledKernel compiled = new CompiledKernel(method.displayName(), kernel.name, source, List.copyOf(params),
                printer.usesDouble(), localBytes, mode);
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("translated %s (%s math) to OpenCL C in %.2f ms: %d lines",
                method.displayName(), mode.name().toLowerCase(), (System.nanoTime() - start) / 1e6,
                source.lines().count()));
        return compiled;
    }
}
