package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.List;
import org.moe4j.kernels.KernelMethod;

/**
 * A kernel translated to IR, before any printer sees it: the functions (helpers first, the kernel
 * last), the kernel's parameters as a device passes them, and its work-group local memory. The
 * OpenCL C and PTX printers start from the same translation, so they accept and refuse the same
 * kernels and agree on which arrays a kernel writes.
 */
final class KernelTranslation {
    final KernelMethod method;
    final Compilation unit;
    final Ir.Function kernel;
    final List<KernelParam> params;
    final long localMemoryBytes;

    private KernelTranslation(KernelMethod method, Compilation unit, Ir.Function kernel) {
        this.method = method;
        this.unit = unit;
        this.kernel = kernel;
        this.params = params(kernel);
        long bytes = 0;
        for (Ir.ArrayRef a : kernel.localArrays) {
            bytes += (long) ((Ir.Const) a.length).value().intValue() * (a.element.wide() ? 8 : 4);
        }
        this.localMemoryBytes = bytes;
    }

    /**
     * Translates {@code method}, whose class (and its helpers' classes) {@code loader} can read.
     *
     * @throws KernelCompileException when the method uses a construct outside the supported subset
     */
    static KernelTranslation of(KernelMethod method, ClassLoader loader, MathMode mode) {
        Compilation unit = new Compilation(method, loader, mode);
        return new KernelTranslation(method, unit, unit.translateKernel(method));
    }

    /** {@code org.moe4j.kernels.lib.Softmax.softmaxForward}, for the first line of a printed program. */
    String javaName() {
        return method.className().replace('/', '.') + "." + method.methodName();
    }

    CompiledKernel compiled(String source, boolean usesDouble) {
        return new CompiledKernel(method.displayName(), kernel.name, source, params, usesDouble, localMemoryBytes,
                unit.mode);
    }

    private static List<KernelParam> params(Ir.Function kernel) {
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
        return List.copyOf(params);
    }
}
