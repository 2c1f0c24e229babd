package org.moe4j.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The static method behind a {@link KernelRef}: its class, name and descriptor, read from the
 * reference's {@link SerializedLambda}, and what its bytecode says about it.
 *
 * @param className   binary name with slashes, as in the class file ({@code org/moe4j/kernels/lib/Gemm})
 * @param methodName  the kernel method's name
 * @param descriptor  the method descriptor ({@code (Lorg/moe4j/kernels/KernelContext;[F[FI)V})
 * @param usesBarrier whether the method, or a static helper of its class it calls, calls
 *                    {@link KernelContext#localBarrier()}
 */
public record KernelMethod(String className, String methodName, String descriptor, boolean usesBarrier) {

    private static final String CONTEXT = "org/moe4j/kernels/KernelContext";
    private static final Map<Class<?>, KernelMethod> CACHE = new ConcurrentHashMap<>();

    /** Resolves a kernel reference; the result is cached per reference class. */
    public static KernelMethod of(KernelRef kernel) {
        return CACHE.computeIfAbsent(kernel.getClass(), c -> resolve(kernel));
    }

    /**
     * The kernel method found by reflection ({@code public static void}, KernelContext first), as the
     * compilers read it; {@link #usesBarrier} is not looked up (a compiler finds barriers itself).
     */
    public static KernelMethod of(Method method) {
        String descriptor = java.lang.invoke.MethodType.methodType(method.getReturnType(), method.getParameterTypes())
                .toMethodDescriptorString();
        return new KernelMethod(method.getDeclaringClass().getName().replace('.', '/'), method.getName(), descriptor,
                false);
    }

    /** {@code Class.method}, for messages and logs. */
    public String displayName() {
        return className.substring(className.lastIndexOf('/') + 1) + "." + methodName;
    }

    private static KernelMethod resolve(KernelRef kernel) {
        SerializedLambda lambda = serializedForm(kernel);
        if (lambda.getImplMethodKind() != MethodHandleInfo.REF_invokeStatic || lambda.getCapturedArgCount() != 0) {
            throw new IllegalArgumentException("a kernel must be a method reference to a static method, got "
                    + lambda.getImplClass() + "." + lambda.getImplMethodName());
        }
        String owner = lambda.getImplClass();
        String name = lambda.getImplMethodName();
        String descriptor = lambda.getImplMethodSignature();
        if (!descriptor.startsWith("(L" + CONTEXT + ";") || !descriptor.endsWith(")V")) {
            throw new IllegalArgumentException("kernel " + owner + "." + name
                    + " must be void and take a KernelContext first, descriptor " + descriptor);
        }
        ClassModel model = parse(owner, kernel.getClass().getClassLoader());
        boolean barrier = callsBarrier(model, name, descriptor, new HashSet<>());
        return new KernelMethod(owner, name, descriptor, barrier);
    }

    private static SerializedLambda serializedForm(KernelRef kernel) {
        try {
            Method writeReplace = kernel.getClass().getDeclaredMethod("writeReplace");
            writeReplace.setAccessible(true);
            return (SerializedLambda) writeReplace.invoke(kernel);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalArgumentException("not a serializable method reference: " + kernel.getClass().getName()
                    + " (pass a kernel as Class::method)", e);
        }
    }

    /** Parses the class file of {@code internalName} from the loader that defined the kernel reference. */
    public static ClassModel parse(String internalName, ClassLoader loader) {
        ClassLoader source = loader != null ? loader : ClassLoader.getSystemClassLoader();
        try (InputStream in = source.getResourceAsStream(internalName + ".class")) {
            if (in == null) {
                throw new IllegalStateException("class file of " + internalName + " not found");
            }
            return ClassFile.of().parse(in.readAllBytes());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read class file of " + internalName, e);
        }
    }

    private static boolean callsBarrier(ClassModel model, String name, String descriptor, Set<String> seen) {
        if (!seen.add(name + descriptor)) {
            return false;
        }
        for (MethodModel method : model.methods()) {
            if (!method.methodName().equalsString(name) || !method.methodType().equalsString(descriptor)) {
                continue;
            }
            CodeModel code = method.code().orElse(null);
            if (code == null) {
                return false;
            }
            for (var element : code) {
                if (element instanceof InvokeInstruction call) {
                    String owner = call.owner().asInternalName();
                    if (owner.equals(CONTEXT) && call.name().equalsString("localBarrier")) {
                        return true;
                    }
                    if (owner.equals(model.thisClass().asInternalName())
                            && callsBarrier(model, call.name().stringValue(), call.type().stringValue(), seen)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
