package org.moe4j.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/** A shared library opened through {@code java.lang.foreign}, and the C functions of it a binding calls. */
final class NativeLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    final String name;
    private final SymbolLookup lookup;

    private NativeLibrary(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /** The first of {@code names} the dynamic linker finds, or empty. */
    static Optional<NativeLibrary> open(String... names) {
        for (String name : names) {
            try {
                return Optional.of(new NativeLibrary(name, SymbolLookup.libraryLookup(name, Arena.global())));
            } catch (IllegalArgumentException notFound) {
                // try the next name
            }
        }
        return Optional.empty();
    }

    /** The C function {@code name} returning {@code int} (a status code) with the given argument layouts. */
    MethodHandle function(String name, MemoryLayout... args) {
        return LINKER.downcallHandle(symbol(name), FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, args));
    }

    /**
     * As {@link #function}, for a short call that may be passed Java arrays directly
     * ({@code MemorySegment.ofArray}): the JVM does not move them while it runs.
     */
    MethodHandle criticalFunction(String name, MemoryLayout... args) {
        return LINKER.downcallHandle(symbol(name), FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, args),
                Linker.Option.critical(true));
    }

    /** Calls a C function returning a status; a Java exception it raises passes through unchanged. */
    static int call(MethodHandle function, Object... args) {
        try {
            return (int) function.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private java.lang.foreign.MemorySegment symbol(String function) {
        return lookup.find(function).orElseThrow(() -> new UnsatisfiedLinkError(name + " has no function " + function));
    }
}
