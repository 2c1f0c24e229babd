package org.moe4j.kernels.compiler;

import org.moe4j.kernels.KernelContext;

/** Kernels the compiler must refuse, one construct each. */
public final class RefusedKernels {
    static int counter;

    private RefusedKernels() {
    }

    public static void allocatesArray(KernelContext ctx, float[] out) {
        float[] scratch = new float[4];
        scratch[0] = 1f;
        out[ctx.globalIdx] = scratch[0];
    }

    public static void allocatesObject(KernelContext ctx, float[] out) {
        StringBuilder text = new StringBuilder();
        out[ctx.globalIdx] = text.length();
    }

    public static void throwsException(KernelContext ctx, float[] out, int n) {
        if (ctx.globalIdx >= n) {
            throw new IllegalStateException("out of range");
        }
        out[ctx.globalIdx] = 1f;
    }

    public static void recurses(KernelContext ctx, int[] out) {
        out[ctx.globalIdx] = factorial(ctx.globalIdx);
    }

    static int factorial(int n) {
        return n <= 1 ? 1 : n * factorial(n - 1);
    }

    public static void callsLibrary(KernelContext ctx, long[] out) {
        out[ctx.globalIdx] = System.nanoTime();
    }

    public static void readsStaticField(KernelContext ctx, int[] out) {
        out[ctx.globalIdx] = counter;
    }

    public static void allocatesLocalArrayInHelper(KernelContext ctx, float[] out) {
        out[ctx.globalIdx] = helperWithLocal(ctx);
    }

    static float helperWithLocal(KernelContext ctx) {
        float[] shared = ctx.allocateFloatLocalArray(16);
        return shared[0];
    }

    public static void synchronizes(KernelContext ctx, float[] out) {
        synchronized (ctx) {
            out[ctx.globalIdx] = 1f;
        }
    }
}
