package org.moe4j.kernels.compiler;

import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.KernelRef;

/**
 * Translates kernel methods to PTX: the same translation to IR as {@link OpenClCompiler} (so the
 * same kernels are accepted, the same constructs refused with the same messages), printed by
 * {@link PtxPrinter}. Computations PTX has no exact instruction for ({@code exp}, {@code log},
 * {@code tanh}, {@code pow}, the floating-point remainder) call the translations of
 * {@link DeviceMath}, added to the module as {@code .func}s. Results are cached per kernel, math
 * mode and target; translation time is logged at debug level on {@code org.moe4j.kernels.compiler}.
 */
public final class PtxCompiler {
    private static final System.Logger LOG = System.getLogger("org.moe4j.kernels.compiler");
    private static final Map<Key, CompiledKernel> CACHE = new ConcurrentHashMap<>();
    private static final String DEVICE_MATH = DeviceMath.class.getName().replace('.', '/');

    private record Key(KernelMethod method, ClassLoader loader, MathMode mode, PtxTarget target) {
    }

    private PtxCompiler() {
    }

    /** Translates the kernel behind a method reference for the {@linkplain PtxTarget#configured configured target}. */
    public static CompiledKernel compile(KernelRef kernel, MathMode mode) {
        return compile(KernelMethod.of(kernel), kernel.getClass().getClassLoader(), mode, PtxTarget.configured());
    }

    /** Translates a kernel method found by reflection ({@code public static void}, KernelContext first). */
    public static CompiledKernel compile(java.lang.reflect.Method method, MathMode mode, PtxTarget target) {
        return compile(KernelMethod.of(method), method.getDeclaringClass().getClassLoader(), mode, target);
    }

    /**
     * Translates {@code method}, whose class (and its helpers' classes) {@code loader} can read.
     *
     * @throws KernelCompileException when the method uses a construct outside the supported subset
     */
    public static CompiledKernel compile(KernelMethod method, ClassLoader loader, MathMode mode, PtxTarget target) {
        return CACHE.computeIfAbsent(new Key(method, loader, mode, target), k -> translate(method, loader, mode, target));
    }

    private static CompiledKernel translate(KernelMethod method, ClassLoader loader, MathMode mode, PtxTarget target) {
        long start = System.nanoTime();
        KernelTranslation translation = KernelTranslation.of(method, loader, mode);
        Map<String, Ir.Function> math = deviceMath(translation.unit);
        String source = PtxPrinter.module(translation.javaName(), mode, target, translation.unit.order, math);
        CompiledKernel compiled = translation.compiled(source, source.contains(".f64"));
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("translated %s (%s math) to PTX for %s in %.2f ms: %d lines",
                method.displayName(), mode.name().toLowerCase(), target.name(), (System.nanoTime() - start) / 1e6,
                source.lines().count()));
        return compiled;
    }

    /**
     * Translates the {@link DeviceMath} functions the unit's functions need (they join the unit's
     * functions), by Java name.
     */
    private static Map<String, Ir.Function> deviceMath(Compilation unit) {
        Map<String, Ir.Function> math = new LinkedHashMap<>();
        ClassModel model = unit.classModel(DEVICE_MATH);
        for (Ir.Function f : List.copyOf(unit.order)) {
            for (Ir.Stmt s : f.body) {
                for (Ir.Expr e : Cleanup.operands(s)) {
                    Cleanup.forEachNode(e, node -> {
                        String name = mathName(node);
                        if (name != null && !math.containsKey(name)) {
                            String descriptor = name.equals("pow") || name.equals("rem") ? "(DD)D" : "(D)D";
                            MethodModel m = Compilation.find(model, name, descriptor);
                            math.put(name, unit.helper(DEVICE_MATH, m, List.of()));
                        }
                    });
                }
            }
        }
        return math;
    }

    /** The {@link DeviceMath} method computing {@code e}, or null when PTX has an instruction for it. */
    private static String mathName(Ir.Expr e) {
        return switch (e) {
            case Ir.Intrinsic i when List.of("exp", "log", "tanh", "pow").contains(i.name()) -> i.name();
            case Ir.Binary b when b.op() == Ir.Op.REM && (b.type() == Ir.Ty.FLOAT || b.type() == Ir.Ty.DOUBLE) -> "rem";
            default -> null;
        };
    }
}
