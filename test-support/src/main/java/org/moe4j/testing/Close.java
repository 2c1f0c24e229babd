package org.moe4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.function.IntToDoubleFunction;

/**
 * The tolerance assertion of every test: {@code |a − r| ≤ atol + rtol·|r|} element by element. A
 * failure names the tensor, the worst element (the one furthest past its tolerance) and both
 * values; NaN and infinities never pass unless both sides are the same infinity.
 */
public final class Close {
    private Close() {
    }

    /** @param reference computed in double; not modified */
    public static void assertClose(String tensor, double[] reference, float[] actual, double atol, double rtol) {
        assertEquals(reference.length, actual.length, tensor + ": length");
        check(tensor, reference.length, i -> reference[i], i -> actual[i], atol, rtol);
    }

    public static void assertClose(String tensor, float[] reference, float[] actual, double atol, double rtol) {
        assertEquals(reference.length, actual.length, tensor + ": length");
        check(tensor, reference.length, i -> reference[i], i -> actual[i], atol, rtol);
    }

    public static void assertClose(String tensor, double[] reference, double[] actual, double atol, double rtol) {
        assertEquals(reference.length, actual.length, tensor + ": length");
        check(tensor, reference.length, i -> reference[i], i -> actual[i], atol, rtol);
    }

    /** Sequences such as the losses of a run, step by step; the index in a message is the 0-based position. */
    public static void assertClose(String what, List<? extends Number> reference, List<? extends Number> actual,
                                   double atol, double rtol) {
        assertEquals(reference.size(), actual.size(), what + ": length");
        check(what, reference.size(), i -> reference.get(i).doubleValue(), i -> actual.get(i).doubleValue(), atol,
                rtol);
    }

    public static void assertClose(String what, double reference, double actual, double atol, double rtol) {
        check(what, 1, i -> reference, i -> actual, atol, rtol);
    }

    private static void check(String what, int n, IntToDoubleFunction reference, IntToDoubleFunction actual,
                              double atol, double rtol) {
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < n; i++) {
            double r = reference.applyAsDouble(i);
            double a = actual.applyAsDouble(i);
            double excess = a == r ? 0 : Math.abs(a - r) - (atol + rtol * Math.abs(r));
            if (!(excess <= worstExcess)) { // NaN compares false: a NaN is always the worst
                worst = i;
                worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
            }
        }
        if (worst >= 0) {
            double r = reference.applyAsDouble(worst);
            double a = actual.applyAsDouble(worst);
            fail(String.format("%s: element %d of %d: got %.9g, reference %.9g (|difference| %.3g, allowed %.3g"
                    + " = atol %.2g + rtol %.2g x |reference|)", what, worst, n, a, r, Math.abs(a - r),
                    atol + rtol * Math.abs(r), atol, rtol));
        }
    }
}
