package org.moe4j.kernels.compiler;

/**
 * Java's {@code Math.exp}, {@code log}, {@code tanh} and {@code pow}, and the remainder {@code %} of
 * doubles, for devices whose instruction set has no accurate form of them (PTX has only approximate
 * {@code ex2}, {@code lg2} and {@code tanh}). They are kernel helpers like any other: the PTX printer
 * calls their translations wherever a kernel computes one of these, converting float arguments to
 * double and the result back, and they use only operations the compiler prints as exact IEEE
 * arithmetic (add, subtract, multiply, divide and fma rounded to nearest, bit moves, comparisons).
 * So a device computes the same bits as the JVM running these methods, and {@code DeviceMathTest}
 * measures on the JVM the error every device has.
 *
 * <p>Error against {@code Math} (see {@code DeviceMathTest}): {@code exp}, {@code log} and
 * {@code tanh} within 2 ulps, the float results rounded from them equal to Java's but for rare
 * double-rounding ties; special values (NaN, infinities, zeros, subnormals, overflow, underflow)
 * exactly. {@code pow} has Java's special cases exactly; integer powers up to 64 are computed by
 * squaring (exact where the powers are representable), others as {@code exp(y·log|x|)} (relative
 * error up to about {@code |y·ln x|·2^-52}: within an ulp once rounded to float). The
 * remainder is exact, so the float remainder, computed from it, is exact too.
 */
final class DeviceMath {
    /** ln 2 rounded to 32 significant bits, so that {@code k·LN2_HI} is exact for {@code |k| < 2^21}. */
    private static final double LN2_HI = 6.93147180369123816490e-01;
    /** ln 2 − {@link #LN2_HI}. */
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double INV_LN2 = 1.44269504088896338700e+00;
    private static final double SQRT2 = 1.41421356237309514547;

    /** 1/n!: the Taylor coefficients of exp. */
    private static final double F2 = 1.0 / 2, F3 = F2 / 3, F4 = F3 / 4, F5 = F4 / 5, F6 = F5 / 6, F7 = F6 / 7,
            F8 = F7 / 8, F9 = F8 / 9, F10 = F9 / 10, F11 = F10 / 11, F12 = F11 / 12, F13 = F12 / 13, F14 = F13 / 14,
            F15 = F14 / 15, F16 = F15 / 16, F17 = F16 / 17, F18 = F17 / 18;

    private DeviceMath() {
    }

    /** {@code Math.exp(x)}. */
    static double exp(double x) {
        if (x != x) {
            return x;
        }
        if (x > 709.8) {
            return Double.POSITIVE_INFINITY;
        }
        if (x < -745.2) {
            return 0.0;
        }
        // x = k·ln2 + r with |r| <= ln2/2 (Cody-Waite: r carries the low part of ln 2 separately)
        double k = Math.floor(x * INV_LN2 + 0.5);
        double r = Math.fma(-k, LN2_HI, x);
        r = Math.fma(-k, LN2_LO, r);
        // e^x = e^r·2^k, scaled in two exact steps so that only the last one rounds (k is in [-1075, 1024])
        int half = (int) k >> 1;
        return (1.0 + expm1Series(r)) * Double.longBitsToDouble((long) (half + 1023) << 52)
                * Double.longBitsToDouble((long) ((int) k - half + 1023) << 52);
    }

    /** {@code e^r - 1} for {@code |r| <= 1}: Taylor to degree 18 in Horner form (the next term is below 2^-58 of it). */
    private static double expm1Series(double r) {
        double s = F2 + r * (F3 + r * (F4 + r * (F5 + r * (F6 + r * (F7 + r * (F8 + r * (F9 + r * (F10 + r * (F11
                + r * (F12 + r * (F13 + r * (F14 + r * (F15 + r * (F16 + r * (F17 + r * F18)))))))))))))));
        return Math.fma(r * r, s, r);
    }

    /** {@code Math.log(x)}. */
    static double log(double x) {
        if (x != x || x < 0) {
            return Double.NaN;
        }
        if (x == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (x == Double.POSITIVE_INFINITY) {
            return x;
        }
        int e = 0;
        if (x < Double.MIN_NORMAL) {
            x *= 0x1p54;
            e = -54;
        }
        long bits = Double.doubleToRawLongBits(x);
        e += (int) (bits >>> 52) - 1023;
        // x = 2^e·m with m in [sqrt(2)/2, sqrt(2)); log(m) = log(1 + f) = 2·atanh(s), s = f / (2 + f)
        double m = Double.longBitsToDouble((bits & 0x000fffffffffffffL) | 0x3ff0000000000000L);
        if (m > SQRT2) {
            m *= 0.5;
            e++;
        }
        double f = m - 1;
        double s = f / (2 + f);
        double z = s * s;
        // 2·atanh(s) = 2s + s·R, R = 2z/3 + 2z²/5 + ...; |s| <= 0.1716, so 12 terms reach 2^-60
        double r = z * (2.0 / 3 + z * (2.0 / 5 + z * (2.0 / 7 + z * (2.0 / 9 + z * (2.0 / 11 + z * (2.0 / 13
                + z * (2.0 / 15 + z * (2.0 / 17 + z * (2.0 / 19 + z * (2.0 / 21 + z * (2.0 / 23 + z * (2.0 / 25))))))))))));
        // 2s = f - f²/2 + s·f²/2, so log(1 + f) = f - (f²/2 - s·(f²/2 + R)): f is exact, the rest small
        double hfsq = 0.5 * f * f;
        return e * LN2_HI - ((hfsq - (s * (hfsq + r) + e * LN2_LO)) - f);
    }

    /** {@code Math.tanh(x)}: {@code t / (t + 2)} with {@code t = e^(2|x|) - 1}, with the sign of x. */
    static double tanh(double x) {
        double a = Math.abs(x);
        if (!(a < 22)) {
            // 1 - tanh(22) is below half an ulp of 1
            return x != x ? x : withSignOf(1.0, x);
        }
        if (a < 0x1p-28) {
            // tanh(x) = x - x³/3 + ...: the cube is below half an ulp of x (and x may be -0.0)
            return x;
        }
        double y = 2 * a;
        double t = y <= 1 ? expm1Series(y) : exp(y) - 1;
        return withSignOf(t / (t + 2), x);
    }

    /** {@code magnitude} (not negative) with the sign bit of {@code x}. */
    private static double withSignOf(double magnitude, double x) {
        return Double.longBitsToDouble(Double.doubleToRawLongBits(magnitude)
                | (Double.doubleToRawLongBits(x) & 0x8000000000000000L));
    }

    /** {@code Math.pow(x, y)}, with every special case of its specification. */
    static double pow(double x, double y) {
        if (y == 0) {
            return 1.0;
        }
        if (y != y || x != x) {
            return Double.NaN;
        }
        if (y == 1) {
            return x;
        }
        double ax = Math.abs(x);
        if (y == Double.POSITIVE_INFINITY || y == Double.NEGATIVE_INFINITY) {
            if (ax == 1) {
                return Double.NaN;
            }
            return (ax > 1) == (y > 0) ? Double.POSITIVE_INFINITY : 0.0;
        }
        boolean integer = Math.floor(y) == y;
        // |y| >= 2^53 is an even integer
        boolean odd = integer && Math.abs(y) < 0x1p53 && Math.floor(y * 0.5) * 2 != y;
        boolean negative = Double.doubleToRawLongBits(x) < 0;
        if (ax == 0 || ax == Double.POSITIVE_INFINITY) {
            double magnitude = (ax == 0) == (y > 0) ? 0.0 : Double.POSITIVE_INFINITY;
            return negative && odd ? -magnitude : magnitude;
        }
        if (negative && !integer) {
            return Double.NaN;
        }
        double r;
        if (integer && Math.abs(y) <= 64) {
            // by squaring: exact where the powers are representable, as Java's are
            r = 1;
            double base = y > 0 ? ax : 1 / ax;
            for (int n = (int) Math.abs(y); n > 0; n >>= 1) {
                if ((n & 1) != 0) {
                    r *= base;
                }
                base *= base;
            }
        } else {
            r = exp(y * log(ax));
        }
        return negative && odd ? -r : r;
    }

    /**
     * Java's {@code x % y} on doubles (C's {@code fmod}), exact: long division of the significands,
     * one exponent step at a time.
     */
    static double rem(double x, double y) {
        long ix = Double.doubleToRawLongBits(x);
        long sign = ix & 0x8000000000000000L;
        long ax = ix & 0x7fffffffffffffffL;
        long ay = Double.doubleToRawLongBits(y) & 0x7fffffffffffffffL;
        if (ay == 0 || ax >= 0x7ff0000000000000L || ay > 0x7ff0000000000000L) {
            return Double.NaN;
        }
        if (ax < ay) {
            return x;
        }
        if (ax == ay) {
            return Double.longBitsToDouble(sign);
        }
        // |x| = mx·2^(ex-1075), |y| = my·2^(ey-1075), significands in [2^52, 2^53)
        int ex = exponent(ax);
        long mx = significand(ax, ex);
        int ey = exponent(ay);
        long my = significand(ay, ey);
        for (; ex > ey; ex--) {
            long d = mx - my;
            if (d == 0) {
                return Double.longBitsToDouble(sign);
            }
            if (d > 0) {
                mx = d;
            }
            mx <<= 1;
        }
        long d = mx - my;
        if (d == 0) {
            return Double.longBitsToDouble(sign);
        }
        if (d > 0) {
            mx = d;
        }
        while (mx < IMPLICIT_BIT) {
            mx <<= 1;
            ex--;
        }
        if (ex > 0) {
            return Double.longBitsToDouble(sign | ((long) ex << 52) | (mx & 0x000fffffffffffffL));
        }
        // a subnormal remainder: the bits shifted out are zero, since the remainder is exact
        return Double.longBitsToDouble(sign | (mx >>> (1 - ex)));
    }

    private static final long IMPLICIT_BIT = 0x0010000000000000L;

    /** The exponent of a positive finite double's bits, a subnormal's as if it were normalised (below 1). */
    private static int exponent(long bits) {
        int e = (int) (bits >>> 52);
        if (e != 0) {
            return e;
        }
        long m = bits;
        for (e = 1; m < IMPLICIT_BIT; e--) {
            m <<= 1;
        }
        return e;
    }

    /** The significand of a positive finite double's bits in [2^52, 2^53), for the exponent {@link #exponent} gave. */
    private static long significand(long bits, int exponent) {
        if ((bits >>> 52) != 0) {
            return (bits & 0x000fffffffffffffL) | IMPLICIT_BIT;
        }
        return bits << (1 - exponent);
    }
}
