package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.Kernel3;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.testing.Close;

class ReduceTest {
    private static final JvmDevice DEVICE = new JvmDevice(2, true);

    @AfterAll
    static void close() {
        DEVICE.close();
    }

    private static float[] random(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** |a − r| ≤ 1e-6 + 1e-6·scale, where scale is Σ|x| (or Σx²): the float rounding bound of a sum. */
    private static void assertClose(String what, double reference, float actual, double scale) {
        Close.assertClose(what, reference, actual, 1e-6 + 1e-6 * scale, 0);
    }

    @Test
    void chunkedSumMatchesDoubleReference() {
        int n = 1000;
        int chunk = 37;
        float[] x = random(n, 1);
        int p = Reduce.partialCount(n, chunk);
        float[] partials = new float[p];
        float[] out = new float[1];
        DEVICE.launch(Reduce.gridPartials(n, chunk), Reduce::sumPartials, partials, x, n, chunk);
        DEVICE.launch(Reduce.gridFinal(), Reduce::sumFinal, out, partials, p, 1f);
        double sum = 0;
        double abs = 0;
        for (float v : x) {
            sum += v;
            abs += Math.abs(v);
        }
        assertClose("sum", sum, out[0], abs);
    }

    @Test
    void chunkedSumOfSquaresMatchesDoubleReference() {
        int n = 777;
        float[] x = random(n, 2);
        int p = Reduce.partialCount(n, Reduce.CHUNK);
        float[] partials = new float[p];
        float[] out = new float[1];
        DEVICE.launch(Reduce.gridPartials(n, Reduce.CHUNK), Reduce::sumOfSquaresPartials, partials, x, n, Reduce.CHUNK);
        DEVICE.launch(Reduce.gridFinal(), Reduce::sumFinal, out, partials, p, 0.5f);
        double sum = 0;
        for (float v : x) {
            sum += (double) v * v;
        }
        assertClose("0.5 * sum of squares", 0.5 * sum, out[0], sum);
    }

    @Test
    void chunkedSumIsReproducible() {
        int n = 5003;
        float[] x = random(n, 3);
        float[] first = new float[Reduce.partialCount(n, 64)];
        float[] second = new float[first.length];
        DEVICE.launch(Reduce.gridPartials(n, 64), Reduce::sumPartials, first, x, n, 64);
        try (JvmDevice other = new JvmDevice(1, true)) {
            other.launch(Reduce.gridPartials(n, 64), Reduce::sumPartials, second, x, n, 64);
        }
        assertEquals(Arrays.toString(first), Arrays.toString(second));
    }

    @Test
    void workGroupTreeReductionUsesTheBarrierAndMatchesReference() {
        assertTrue(KernelMethod.of((Kernel3<float[], float[], Integer>) Reduce::sumWorkGroup).usesBarrier(),
                "sumWorkGroup must be detected as a barrier kernel");
        int n = 3 * Reduce.GROUP + 45; // last group partly past n
        float[] x = random(n, 4);
        int groups = Reduce.workGroupCount(n);
        float[] partials = new float[groups];
        DEVICE.launch(Reduce.gridWorkGroup(n), Reduce::sumWorkGroup, partials, x, n);
        double total = 0;
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            double abs = 0;
            for (int i = g * Reduce.GROUP; i < Math.min(n, (g + 1) * Reduce.GROUP); i++) {
                sum += x[i];
                abs += Math.abs(x[i]);
            }
            assertClose("partial of group " + g, sum, partials[g], abs);
            total += sum;
        }
        float[] out = new float[1];
        DEVICE.launch(Reduce.gridFinal(), Reduce::sumFinal, out, partials, groups, 1f);
        assertClose("total", total, out[0], n);
    }

    @Test
    void emptyInputSumsToZero() {
        float[] out = {42f};
        DEVICE.launch(Reduce.gridFinal(), Reduce::sumFinal, out, new float[0], 0, 1f);
        assertEquals(0f, out[0]);
    }
}
