package org.moe4j.kernels.compiler;

import org.moe4j.kernels.KernelContext;

/** Kernels that exercise one Java semantics rule each; work-item i reads element i of the inputs. */
public final class SemanticsKernels {
    private SemanticsKernels() {
    }

    /** out[9i..9i+8]: a+b, a-b, a*b, a/b, a%b, a<<b, a>>b, a>>>b, -a. */
    public static void intOps(KernelContext ctx, int[] out, int[] a, int[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int x = a[i];
        int y = b[i];
        out[9 * i] = x + y;
        out[9 * i + 1] = x - y;
        out[9 * i + 2] = x * y;
        out[9 * i + 3] = y == 0 ? 0 : x / y;
        out[9 * i + 4] = y == 0 ? 0 : x % y;
        out[9 * i + 5] = x << y;
        out[9 * i + 6] = x >> y;
        out[9 * i + 7] = x >>> y;
        out[9 * i + 8] = -x;
    }

    /** out[6i..6i+5]: a+b, a*b, a/b, a<<s, a>>s, a>>>s with s = shift[i]. */
    public static void longOps(KernelContext ctx, long[] out, long[] a, long[] b, int[] shift, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        long x = a[i];
        long y = b[i];
        int s = shift[i];
        out[6 * i] = x + y;
        out[6 * i + 1] = x * y;
        out[6 * i + 2] = y == 0 ? 0 : x / y;
        out[6 * i + 3] = x << s;
        out[6 * i + 4] = x >> s;
        out[6 * i + 5] = x >>> s;
    }

    /** ints[3i..]: (int) x, (int) (double) x, (byte) (int) x; longs[i] = (long) x. */
    public static void floatToInt(KernelContext ctx, int[] ints, long[] longs, float[] x, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        float v = x[i];
        ints[3 * i] = (int) v;
        ints[3 * i + 1] = (int) (double) v;
        ints[3 * i + 2] = (byte) (int) v;
        longs[i] = (long) v;
    }

    /** out[4i..]: max(a,b), min(a,b), max(b,a), min(b,a). */
    public static void maxMin(KernelContext ctx, float[] out, float[] a, float[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[4 * i] = Math.max(a[i], b[i]);
        out[4 * i + 1] = Math.min(a[i], b[i]);
        out[4 * i + 2] = Math.max(b[i], a[i]);
        out[4 * i + 3] = Math.min(b[i], a[i]);
    }

    /** out[2i] = a*b + c (two roundings), out[2i+1] = Math.fma(a, b, c) (one). */
    public static void multiplyAdd(KernelContext ctx, float[] out, float[] a, float[] b, float[] c, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[2 * i] = a[i] * b[i] + c[i];
        out[2 * i + 1] = Math.fma(a[i], b[i], c[i]);
    }

    /** out[2i] = 1 when a < b else 0 (false for NaN), out[2i+1] = 1 when !(a >= b) (true for NaN). */
    public static void compareNaN(KernelContext ctx, int[] out, float[] a, float[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[2 * i] = a[i] < b[i] ? 1 : 0;
        out[2 * i + 1] = !(a[i] >= b[i]) ? 1 : 0;
    }

    /** bits[i] = floatToRawIntBits(x[i]); back[i] = intBitsToFloat(bits[i] ^ 0x80000000). */
    public static void bits(KernelContext ctx, int[] bits, float[] back, float[] x, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int b = Float.floatToRawIntBits(x[i]);
        bits[i] = b;
        back[i] = Float.intBitsToFloat(b ^ 0x80000000);
    }

    /** out[2i] = a/b, out[2i+1] = a%b, unguarded: on a device, division by 0 gives 0 (the JVM would throw). */
    public static void divide(KernelContext ctx, int[] out, int[] a, int[] b, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        out[2 * i] = a[i] / b[i];
        out[2 * i + 1] = a[i] % b[i];
    }

    /** out[i] = a % b on floats (C's fmod: exact). */
    public static void floatRemainder(KernelContext ctx, float[] out, float[] a, float[] b, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            out[i] = a[i] % b[i];
        }
    }
}
