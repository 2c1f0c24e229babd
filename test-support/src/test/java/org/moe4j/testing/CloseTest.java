package org.moe4j.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

class CloseTest {
    @Test
    void passesWithinToleranceAndNamesTheWorstElementOtherwise() {
        Close.assertClose("y", new double[] {1, 2, 3}, new float[] {1.0001f, 2f, 2.9999f}, 0, 1e-3);
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> Close.assertClose("y", new double[] {1, 2, 3}, new float[] {1.01f, 2f, 3.5f}, 0, 1e-3));
        assertTrue(e.getMessage().startsWith("y: element 2 of 3: got 3.50000000, reference 3.00000000"), e.getMessage());
    }

    @Test
    void nanAndInfinityNeverPassButEqualInfinitiesDo() {
        assertThrows(AssertionFailedError.class,
                () -> Close.assertClose("y", new double[] {1}, new float[] {Float.NaN}, 1, 1));
        assertThrows(AssertionFailedError.class,
                () -> Close.assertClose("y", new double[] {1}, new float[] {Float.POSITIVE_INFINITY}, 1, 1));
        Close.assertClose("y", new double[] {Double.POSITIVE_INFINITY}, new float[] {Float.POSITIVE_INFINITY}, 0, 0);
        Close.assertClose("losses", List.of(1f, 2f), List.of(1.0, 2.0), 0, 0);
        assertThrows(AssertionFailedError.class, () -> Close.assertClose("losses", List.of(1f), List.of(1.0, 2.0), 0, 0));
    }
}
