package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Tolerance assertion of the op tests: {@code |a − r| ≤ atol + rtol·|r|} element by element. */
final class Approx {
    private Approx() {
    }

    /** Fails naming {@code what}, the worst index and both values if any element is out of tolerance. */
    static void assertClose(String what, double[] reference, float[] actual, double atol, double rtol) {
        assertEquals(reference.length, actual.length, what + ": length");
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < reference.length; i++) {
            double error = Math.abs(actual[i] - reference[i]);
            double excess = error - (atol + rtol * Math.abs(reference[i]));
            if (!(excess <= worstExcess)) { // also catches NaN
                worst = i;
                worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: index %d: got %.8g, reference %.8g (atol %.1g, rtol %.1g)",
                    what, worst, actual[worst], reference[worst], atol, rtol));
        }
    }
}
