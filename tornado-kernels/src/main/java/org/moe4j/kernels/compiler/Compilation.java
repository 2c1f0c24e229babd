package org.moe4j.kernels.compiler;

import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.reflect.AccessFlag;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.moe4j.kernels.KernelMethod;

/**
 * The translation of one kernel: the kernel function and every helper it reaches, each helper
 * translated once per combination of address spaces of its array arguments, callees before callers.
 */
final class Compilation {
    final String kernel;
    final ClassLoader loader;
    final MathMode mode;
    private final Map<String, ClassModel> classes = new HashMap<>();
    private final Map<String, Ir.Function> helpers = new HashMap<>();
    private final Deque<String> inProgress = new ArrayDeque<>();
    private final Set<String> names = new HashSet<>();
    /** Translated functions, callees before their callers, the kernel last. */
    final List<Ir.Function> order = new ArrayList<>();

    Compilation(KernelMethod method, ClassLoader loader, MathMode mode) {
        this.kernel = method.displayName();
        this.loader = loader;
        this.mode = mode;
    }

    Ir.Function translateKernel(KernelMethod method) {
        ClassModel model = classModel(method.className());
        MethodModel m = find(model, method.methodName(), method.descriptor());
        if (m == null) {
            throw new IllegalStateException("method " + method.methodName() + method.descriptor() + " not found in "
                    + method.className());
        }
        String key = method.className() + "." + method.methodName() + method.descriptor();
        inProgress.push(key);
        Ir.Function kernelFunction = new Translator(this, model, m, true, List.of(),
                uniqueName(simpleName(method.className()) + "_" + method.methodName())).translate();
        inProgress.pop();
        order.add(kernelFunction);
        return kernelFunction;
    }

    /**
     * The helper {@code owner.method} for array arguments in the given address spaces
     * ({@code true}: work-group local), translated on first use. Returns null when the call would
     * recurse; the caller refuses it with its own position.
     */
    Ir.Function helper(String owner, MethodModel method, List<Boolean> localArrays) {
        String identity = owner + "." + method.methodName().stringValue() + method.methodType().stringValue();
        if (inProgress.contains(identity)) {
            return null;
        }
        String key = identity + localArrays;
        Ir.Function known = helpers.get(key);
        if (known != null) {
            return known;
        }
        inProgress.push(identity);
        Ir.Function f = new Translator(this, classModel(owner), method, false, localArrays,
                uniqueName(simpleName(owner) + "_" + method.methodName().stringValue())).translate();
        inProgress.pop();
        helpers.put(key, f);
        order.add(f);
        return f;
    }

    /** The class file of {@code internalName}, parsed once. */
    ClassModel classModel(String internalName) {
        return classes.computeIfAbsent(internalName, n -> KernelMethod.parse(n, loader));
    }

    /** A static method with bytecode named {@code name} with {@code descriptor}, or null. */
    static MethodModel find(ClassModel model, String name, String descriptor) {
        for (MethodModel m : model.methods()) {
            if (m.methodName().equalsString(name) && m.methodType().equalsString(descriptor)
                    && m.flags().has(AccessFlag.STATIC)) {
                return m;
            }
        }
        return null;
    }

    private String uniqueName(String base) {
        String name = base.replaceAll("[^A-Za-z0-9_]", "_");
        String candidate = name;
        for (int i = 1; !names.add(candidate); i++) {
            candidate = name + "_" + i;
        }
        return candidate;
    }

    private static String simpleName(String internalName) {
        return internalName.substring(internalName.lastIndexOf('/') + 1);
    }
}
