package org.moe4j.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.moe4j.kernels.compiler.CompiledKernel;
import org.moe4j.kernels.compiler.KernelParam;

/**
 * The {@code kernelParams} of {@code cuLaunchKernel}: one pointer per {@code .param} of the PTX
 * entry, to a value in the same order and size (an array is its device address, a {@code .u64},
 * then its length, a {@code .u32}; a scalar its Java value).
 */
final class KernelParams {
    private KernelParams() {
    }

    /**
     * @param checked       the launch arguments, checked and unboxed ({@link CompiledKernel#checkArguments})
     * @param deviceAddress the device address of an array argument (uploading it where needed)
     * @return the pointer array, allocated in {@code arena} with the values it points to
     */
    static MemorySegment pack(Arena arena, CompiledKernel kernel, Object[] checked, ToLongFunction<Object> deviceAddress) {
        List<MemorySegment> values = new ArrayList<>();
        for (int i = 0; i < checked.length; i++) {
            KernelParam param = kernel.params().get(i);
            Object a = checked[i];
            if (param.kind().isArray()) {
                values.add(arena.allocateFrom(JAVA_LONG, deviceAddress.applyAsLong(a)));
                values.add(arena.allocateFrom(JAVA_INT, java.lang.reflect.Array.getLength(a)));
            } else {
                values.add(switch (a) {
                    case Integer v -> arena.allocateFrom(JAVA_INT, v);
                    case Long v -> arena.allocateFrom(JAVA_LONG, v);
                    case Float v -> arena.allocateFrom(JAVA_FLOAT, v);
                    case Double v -> arena.allocateFrom(JAVA_DOUBLE, v);
                    default -> throw new IllegalStateException("not a checked scalar: " + a);
                });
            }
        }
        MemorySegment pointers = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) {
            pointers.setAtIndex(ADDRESS, i, values.get(i));
        }
        return pointers;
    }
}
