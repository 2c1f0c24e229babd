package org.moe4j.kernels.compiler;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.moe4j.kernels.lib.Softmax;

/** Translation without a device: every library kernel translates; the semantics rules are in the C; refusals say what and where. */
class OpenClCompilerTest {

    @Test
    void everyLibraryKernelTranslatesInBothModes() {
        List<Method> kernels = LibraryKernels.all();
        assertTrue(kernels.size() >= 30, "found only " + kernels.size() + " kernels");
        assertAll(kernels.stream().flatMap(m -> java.util.stream.Stream.of(MathMode.RELAXED, MathMode.STRICT)
                .map(mode -> () -> {
                    CompiledKernel k = OpenClCompiler.compile(m, mode);
                    assertTrue(k.source().contains("__kernel void " + k.kernelName() + "("), k.source());
                    assertTrue(k.source().contains("#pragma OPENCL FP_CONTRACT OFF"));
                    assertEquals(m.getParameterCount() - 1, k.params().size(), LibraryKernels.name(m));
                    assertTrue(k.params().stream().anyMatch(KernelParam::written), LibraryKernels.name(m) + " writes nothing?");
                })));
    }

    @Test
    void relaxedComputesFloatExpInFloatAndStrictInDouble() throws Exception {
        Method forward = Softmax.class.getMethod("softmaxForward", org.moe4j.kernels.KernelContext.class, float[].class,
                float[].class, int.class, int.class);
        CompiledKernel relaxed = OpenClCompiler.compile(forward, MathMode.RELAXED);
        CompiledKernel strict = OpenClCompiler.compile(forward, MathMode.STRICT);
        assertFalse(relaxed.usesDouble(), relaxed.source());
        assertTrue(relaxed.source().contains("= exp(t"), relaxed.source());
        assertTrue(strict.usesDouble());
        assertTrue(strict.source().contains("(float)exp((double)"), strict.source());
        assertTrue(strict.source().contains("cl_khr_fp64"));
        assertSame(relaxed, OpenClCompiler.compile(forward, MathMode.RELAXED), "translations are cached");
    }

    @Test
    void writtenArraysAreFoundInTheBytecode() throws Exception {
        CompiledKernel k = compile(SemanticsKernels.class, "floatToInt");
        assertEquals(List.of(true, true, false), k.params().stream().filter(p -> p.kind().isArray())
                .map(KernelParam::written).toList());
    }

    @Test
    void javaSemanticsRulesAreSpelledOutInTheC() throws Exception {
        String ints = compile(SemanticsKernels.class, "intOps").source();
        assertTrue(ints.contains("as_int((uint)"), "wrapping int arithmetic:\n" + ints);
        assertTrue(ints.contains("& 31)"), "masked shift counts:\n" + ints);
        assertTrue(ints.contains("jdiv_i("), "division by -1 defined:\n" + ints);
        String longs = compile(SemanticsKernels.class, "longOps").source();
        assertTrue(longs.contains("as_long((ulong)") && longs.contains("& 63)"), longs);
        String conversions = compile(SemanticsKernels.class, "floatToInt").source();
        assertTrue(conversions.contains("isnan(x) ? 0 : convert_int_sat_rtz(x)"), conversions);
        String maxMin = compile(SemanticsKernels.class, "maxMin").source();
        assertTrue(maxMin.contains("jmax_f(") && !maxMin.contains("fmax("), maxMin);
        String fma = compile(SemanticsKernels.class, "multiplyAdd").source();
        assertTrue(fma.contains("#pragma OPENCL FP_CONTRACT OFF") && fma.contains("fma("), fma);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "allocatesArray|RefusedKernels.allocatesArray|array allocation (new float[]",
            "allocatesObject|RefusedKernels.allocatesObject|object allocation (new java.lang.StringBuilder)",
            "throwsException|RefusedKernels.throwsException|throwing an exception (new java.lang.IllegalStateException)",
            "recurses|RefusedKernels.factorial|a recursive call of org.moe4j.kernels.compiler.RefusedKernels.factorial(I)I",
            "callsLibrary|RefusedKernels.callsLibrary|a call of java.lang.System.nanoTime()J (supported library calls",
            "readsStaticField|RefusedKernels.readsStaticField|the static field org.moe4j.kernels.compiler.RefusedKernels.counter (read",
            "allocatesLocalArrayInHelper|RefusedKernels.helperWithLocal|a work-group local array allocated in a helper method",
            "synchronizes|RefusedKernels.synchronizes|synchronization (monitorenter)",
    })
    void refusesWithClassMethodOffsetAndConstruct(String kernel, String where, String construct) throws Exception {
        KernelCompileException e = assertThrows(KernelCompileException.class,
                () -> compile(RefusedKernels.class, kernel));
        String message = e.getMessage();
        assertTrue(message.startsWith("cannot compile kernel RefusedKernels." + kernel + ": "), message);
        assertTrue(message.contains(construct), message);
        String method = where.substring(where.indexOf('.') + 1);
        assertTrue(message.contains("in org.moe4j.kernels.compiler.RefusedKernels." + method + " at bytecode offset "),
                message);
        assertTrue(message.matches(".* at bytecode offset \\d+ \\(source line \\d+\\)$"), message);
        assertEquals(method, e.methodName());
        assertTrue(e.bytecodeOffset() >= 0);
    }

    static CompiledKernel compile(Class<?> owner, String name) throws Exception {
        for (Method m : owner.getMethods()) {
            if (m.getName().equals(name)) {
                return OpenClCompiler.compile(m, MathMode.RELAXED);
            }
        }
        throw new NoSuchMethodException(name);
    }
}
