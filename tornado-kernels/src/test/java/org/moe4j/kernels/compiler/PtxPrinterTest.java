package org.moe4j.kernels.compiler;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The PTX printer without a GPU or ptxas: each Java semantics rule is in the PTX, and refusals match OpenCL's. */
class PtxPrinterTest {
    private static final PtxTarget VOLTA = PtxTarget.of("sm_70");

    @Test
    void everyLibraryKernelPrintsOneEntryForVoltaWithNoApproximateOrFlushingInstruction() {
        List<Method> kernels = LibraryKernels.all();
        assertAll(kernels.stream().flatMap(m -> Stream.of(MathMode.values()).map(mode -> () -> {
            CompiledKernel k = PtxCompiler.compile(m, mode, VOLTA);
            String ptx = k.source();
            assertTrue(ptx.contains("\n.version 7.0\n.target sm_70\n.address_size 64\n"), ptx);
            assertEquals(1, ptx.split("\\.visible \\.entry ", -1).length - 1, LibraryKernels.name(m));
            assertTrue(ptx.contains(".entry " + k.kernelName() + "("), ptx);
            assertFalse(ptx.contains(".approx") || ptx.contains(".ftz") || ptx.contains(".full"), ptx);
            assertFalse(Pattern.compile("\\b(add|sub|mul|div|sqrt)\\.f(32|64)").matcher(ptx).find(),
                    "float arithmetic without a rounding mode (may be fused or approximated):\n" + ptx);
            assertFalse(Pattern.compile("\\b(max|min)\\.f(32|64)").matcher(ptx).find(), "PTX max/min drop NaN:\n" + ptx);
            assertEquals(OpenClCompiler.compile(m, mode).params(), k.params(), "same parameters as on OpenCL");
        })));
    }

    @Test
    void floatArithmeticIsRoundedSeparatelyUnlessTheKernelCallsFma() throws Exception {
        String ptx = compile("multiplyAdd");
        assertTrue(ptx.contains("mul.rn.f32") && ptx.contains("add.rn.f32"), ptx);
        assertEquals(1, ptx.split("fma\\.rn\\.f32", -1).length - 1, "one fma, from Math.fma:\n" + ptx);
    }

    @Test
    void divisionAndSquareRootAreCorrectlyRounded() throws Exception {
        String rms = library("RmsNorm.rmsNormForward", MathMode.RELAXED);
        assertTrue(rms.contains("div.rn.f32") && rms.contains("sqrt.rn.f32"), rms);
        assertTrue(library("Attention.attentionForward", MathMode.STRICT).contains("sqrt.rn.f64"),
                "strict math computes (float) (1.0 / Math.sqrt(hs)) in double");
        assertFalse(library("Attention.attentionForward", MathMode.RELAXED).contains("sqrt.rn.f64"),
                "relaxed math computes it in float");
    }

    @Test
    void maxAndMinKeepJavasNanAndSignedZeroRules() throws Exception {
        String ptx = compile("maxMin");
        assertTrue(ptx.contains("setp.nan.f32") && ptx.contains("and.b32 %f") && ptx.contains("or.b32 %f"),
                "NaN wins; max(-0.0, 0.0) ANDs the bits, min ORs them:\n" + ptx);
        assertTrue(ptx.contains("setp.gt.f32") && ptx.contains("setp.lt.f32"), ptx);
    }

    @Test
    void floatToIntSaturatesWithNanToZero() throws Exception {
        String ptx = compile("floatToInt");
        for (String cvt : List.of("cvt.rzi.s32.f32", "cvt.rzi.s64.f32", "cvt.rzi.s32.f64")) {
            Pattern rule = Pattern.compile(Pattern.quote(cvt) + " (%r\\w+|%rd\\w+), (%\\w+);\\n\\s+setp\\.nan\\.f(32|64) (%p\\d+), \\2, \\2;"
                    + "\\n\\s+selp\\.s(32|64) %\\w+, 0, \\1, \\4;");
            assertTrue(rule.matcher(ptx).find(), cvt + " then NaN to 0:\n" + ptx);
        }
        assertTrue(ptx.contains("shl.b32") && ptx.contains(", 24;") && ptx.contains("shr.s32"), "(byte) by shifts:\n" + ptx);
    }

    @Test
    void shiftCountsAreMaskedAndIntegerArithmeticWraps() throws Exception {
        String ints = compile("intOps");
        assertTrue(Pattern.compile("and\\.b32 %r\\d+, %\\w+, 31;").matcher(ints).find(), ints);
        assertTrue(ints.contains("shl.b32") && ints.contains("shr.s32") && ints.contains("shr.u32"), ints);
        assertTrue(ints.contains("mul.lo.s32") && ints.contains("add.s32") && ints.contains("neg.s32"), ints);
        String longs = compile("longOps");
        assertTrue(Pattern.compile("and\\.b32 %r\\d+, %\\w+, 63;").matcher(longs).find(), longs);
        assertTrue(longs.contains("shl.b64") && longs.contains("mul.lo.s64"), longs);
    }

    @Test
    void integerDivisionByZeroGivesZeroAndByMinusOneNegates() throws Exception {
        String ptx = compile("intOps");
        assertTrue(Pattern.compile("setp\\.eq\\.s32 %p\\d+, %\\w+, 0;\\n\\s+setp\\.eq\\.s32 %p\\d+, %\\w+, -1;"
                + "\\n\\s+or\\.pred").matcher(ptx).find(), ptx);
        assertTrue(ptx.contains("div.s32") && ptx.contains("rem.s32") && ptx.contains(", 1, %"),
                "the divisor is replaced by 1 where it is 0 or -1:\n" + ptx);
    }

    @Test
    void nanComparisonsUseTheUnorderedFormWhereTheBytecodeSaysTrue() throws Exception {
        String ptx = compile("compareNaN");
        assertTrue(Pattern.compile("setp\\.(lt|ge)u\\.f32").matcher(ptx).find(), "!(a >= b) is true for NaN:\n" + ptx);
        assertTrue(Pattern.compile("setp\\.(lt|ge)\\.f32").matcher(ptx).find(), "a < b is false for NaN:\n" + ptx);
    }

    @Test
    void bitMovesAndCanonicalNan() throws Exception {
        String ptx = compile("bits");
        assertTrue(ptx.contains("mov.b32 %t") && ptx.contains("xor.b32"), ptx);
        assertTrue(PtxCode.literal(new Ir.Const(Ir.Ty.FLOAT, Float.NaN)).equals("0f7FC00000"));
        assertEquals("0dFFF0000000000000", PtxCode.literal(new Ir.Const(Ir.Ty.DOUBLE, Double.NEGATIVE_INFINITY)));
        assertEquals("0x8000000000000000", PtxCode.literal(new Ir.Const(Ir.Ty.LONG, Long.MIN_VALUE)));
    }

    @Test
    void arraysAreGlobalLocalArraysSharedBarriersBarSyncHelpersFuncs() {
        String gemm = library("Gemm.matmul", MathMode.RELAXED);
        assertTrue(gemm.contains("cvta.to.global.u64 %c_, %c_;"), gemm);
        assertTrue(gemm.contains(".shared .align 4 .f32 local0[256];") || gemm.contains(".shared .align 4 .f32 aTile_[256];"),
                gemm);
        assertTrue(gemm.contains("ld.shared.f32") && gemm.contains("st.shared.f32") && gemm.contains("bar.sync 0;"), gemm);
        assertTrue(gemm.contains(".func Gemm_store("), "the store helper is a .func:\n" + gemm);
        String softmax = library("Softmax.softmaxForward", MathMode.RELAXED);
        assertTrue(softmax.contains(".func (.param .f32 result) Softmax_rowMax(") && softmax.contains("call (ret), DeviceMath_exp,"),
                softmax);
    }

    @Test
    void refusesWhatOpenClRefusesWithTheSameMessage() {
        for (Method m : RefusedKernels.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers())) {
                KernelCompileException opencl = assertThrows(KernelCompileException.class,
                        () -> OpenClCompiler.compile(m, MathMode.RELAXED));
                KernelCompileException ptx = assertThrows(KernelCompileException.class,
                        () -> PtxCompiler.compile(m, MathMode.RELAXED, VOLTA));
                assertEquals(opencl.getMessage(), ptx.getMessage());
            }
        }
    }

    @Test
    void targetsAreCheckedAndTranslationsCached() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PtxTarget.of("sm_61"));
        assertTrue(e.getMessage().contains("moe4j.cuda.target=sm_61") && e.getMessage().contains("sm_70"), e.getMessage());
        Method m = SemanticsKernels.class.getMethod("bits", org.moe4j.kernels.KernelContext.class, int[].class,
                float[].class, float[].class, int.class);
        assertSame(PtxCompiler.compile(m, MathMode.RELAXED, VOLTA), PtxCompiler.compile(m, MathMode.RELAXED, VOLTA));
    }

    private static String compile(String semanticsKernel) throws NoSuchMethodException {
        for (Method m : SemanticsKernels.class.getMethods()) {
            if (m.getName().equals(semanticsKernel)) {
                return PtxCompiler.compile(m, MathMode.RELAXED, VOLTA).source();
            }
        }
        throw new NoSuchMethodException(semanticsKernel);
    }

    private static String library(String kernel, MathMode mode) {
        Method m = LibraryKernels.all().stream().filter(k -> LibraryKernels.name(k).equals(kernel)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(kernel));
        return PtxCompiler.compile(m, mode, VOLTA).source();
    }
}
