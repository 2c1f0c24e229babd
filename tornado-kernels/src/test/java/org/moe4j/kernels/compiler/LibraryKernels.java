package org.moe4j.kernels.compiler;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.moe4j.kernels.KernelContext;
import org.moe4j.kernels.lib.Gemm;

/** Every kernel of {@code org.moe4j.kernels.lib}: its public static void methods that take a KernelContext first. */
public final class LibraryKernels {
    private LibraryKernels() {
    }

    public static List<Method> all() {
        List<Method> kernels = new ArrayList<>();
        try {
            Path root = Path.of(Gemm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = root.resolve("org/moe4j/kernels/lib");
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String file = f.getFileName().toString();
                    if (!file.endsWith(".class") || file.contains("$") || file.equals("package-info.class")) {
                        continue;
                    }
                    Class<?> c = Class.forName("org.moe4j.kernels.lib." + file.substring(0, file.length() - 6));
                    for (Method m : c.getDeclaredMethods()) {
                        if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers())
                                && m.getReturnType() == void.class && m.getParameterCount() > 0
                                && m.getParameterTypes()[0] == KernelContext.class) {
                            kernels.add(m);
                        }
                    }
                }
            }
        } catch (IOException | URISyntaxException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot list the kernel library", e);
        }
        kernels.sort(Comparator.comparing(LibraryKernels::name));
        return kernels;
    }

    /** {@code Class.method}. */
    public static String name(Method m) {
        return m.getDeclaringClass().getSimpleName() + "." + m.getName();
    }
}
