package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Reduce;

/**
 * Whole-array reductions whose result the host needs (the gradient norm for clipping). Each array
 * is summed in fixed chunks on the device and the chunk sums are added on the host in index order,
 * in double, so the result is the same on every run and every device schedule.
 */
public final class Reductions {
    private Reductions() {
    }

    /** {@code Σ_a Σ_i arrays[a][i]²} over device arrays; none modified. */
    public static double sumOfSquares(Device device, float[]... arrays) {
        double total = 0;
        for (float[] x : arrays) {
            int n = x.length;
            int count = Reduce.partialCount(n, Reduce.CHUNK);
            if (count == 0) {
                continue;
            }
            float[] partials = device.allocateFloats(count);
            device.launch(Reduce.gridPartials(n, Reduce.CHUNK), Reduce::sumOfSquaresPartials, partials, x, n,
                    Reduce.CHUNK);
            device.copyToHost(partials);
            for (float p : partials) {
                total += p;
            }
            device.release(partials);
        }
        return total;
    }

    /** {@code Σ_i x[i]} of a device array, not modified. */
    public static double sum(Device device, float[] x) {
        int n = x.length;
        int count = Reduce.partialCount(n, Reduce.CHUNK);
        if (count == 0) {
            return 0;
        }
        float[] partials = device.allocateFloats(count);
        device.launch(Reduce.gridPartials(n, Reduce.CHUNK), Reduce::sumPartials, partials, x, n, Reduce.CHUNK);
        device.copyToHost(partials);
        double total = 0;
        for (float p : partials) {
            total += p;
        }
        device.release(partials);
        return total;
    }
}
