package org.moe4j.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.compiler.CompiledKernel;
import org.moe4j.kernels.compiler.KernelParam;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.compiler.PtxCompiler;
import org.moe4j.kernels.compiler.PtxTarget;
import org.moe4j.kernels.lib.Elementwise;

/** cuLaunchKernel's parameter array, built without a GPU: one pointer per PTX .param, to a value of its size. */
class KernelParamsTest {
    private static final PtxTarget VOLTA = PtxTarget.of("sm_70");

    @Test
    void anArrayIsItsDeviceAddressThenItsLengthAndScalarsAreTheirValues() throws Exception {
        CompiledKernel k = PtxCompiler.compile(org.moe4j.kernels.KernelMethod.of(
                (org.moe4j.kernels.Kernel4<float[], float[], float[], Integer>) Elementwise::add),
                Elementwise.class.getClassLoader(), MathMode.RELAXED, VOLTA);
        float[] out = new float[5];
        float[] a = new float[5];
        float[] b = new float[7];
        Map<Object, Long> addresses = new IdentityHashMap<>(Map.of(out, 0x7000L, a, 0x8000L, b, 0x9000L));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = KernelParams.pack(arena, k, k.checkArguments(new Object[] {out, a, b, 5}), addresses::get);
            assertEquals(0x7000L, value(params, 0, 8).get(JAVA_LONG, 0));
            assertEquals(5, value(params, 1, 4).get(JAVA_INT, 0));
            assertEquals(0x8000L, value(params, 2, 8).get(JAVA_LONG, 0));
            assertEquals(5, value(params, 3, 4).get(JAVA_INT, 0));
            assertEquals(0x9000L, value(params, 4, 8).get(JAVA_LONG, 0));
            assertEquals(7, value(params, 5, 4).get(JAVA_INT, 0));
            assertEquals(5, value(params, 6, 4).get(JAVA_INT, 0));
        }
        assertTrue(k.source().contains(".param .u64 out_, .param .u32 out_len, .param .u64 a_"), "the same order in the PTX");
    }

    @Test
    void floatScalarsKeepTheirBitsAndBoxedSmallIntegersWiden() {
        CompiledKernel k = PtxCompiler.compile(org.moe4j.kernels.KernelMethod.of(
                        (org.moe4j.kernels.Kernel3<float[], Float, Integer>) Elementwise::fill),
                Elementwise.class.getClassLoader(), MathMode.RELAXED, VOLTA);
        float[] x = new float[3];
        try (Arena arena = Arena.ofConfined()) {
            Object[] checked = k.checkArguments(new Object[] {x, -0f, (short) 3});
            MemorySegment params = KernelParams.pack(arena, k, checked, array -> 1L);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(value(params, 2, 4).get(JAVA_FLOAT, 0)));
            assertEquals(3, value(params, 3, 4).get(JAVA_INT, 0));
        }
        assertEquals(1, new KernelParam("flag", KernelParam.Kind.INT, false).check("K", true));
        assertEquals(2.5, new KernelParam("d", KernelParam.Kind.DOUBLE, false).check("K", 2.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.checkArguments(new Object[] {x, 1.0, 3}));
        assertEquals("Elementwise.fill: parameter value is a FLOAT, got Double", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.checkArguments(new Object[] {x, 1f}));
        assertEquals("Elementwise.fill takes 3 arguments, got 2", e.getMessage());
    }

    private static MemorySegment value(MemorySegment params, int index, long bytes) {
        return params.getAtIndex(ADDRESS, index).reinterpret(bytes);
    }
}
