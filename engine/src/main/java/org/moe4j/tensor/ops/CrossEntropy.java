package org.moe4j.tensor.ops;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Elementwise;
import org.moe4j.kernels.lib.Reduce;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Cross-entropy of logits against integer targets. */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /**
     * The mean over rows of {@code logsumexp(logits[i,:]) − logits[i,targets[i]]}, as a scalar
     * (shape {@code []}). Rows whose target is negative are ignored (padding): they add nothing to
     * the sum nor to the count, and get a zero gradient. If every row is ignored the loss is 0 with
     * a zero gradient (torch would give NaN). The sum over rows runs in a fixed order on the
     * device, so the loss is reproducible. Not modified: {@code logits}, {@code targets}.
     *
     * @param logits  shape {@code [..., V]} with {@code N} rows
     * @param targets host array of {@code N} class indices in {@code [0, V)}, or negative to ignore
     */
    public static Tensor meanLoss(Tape tape, Tensor logits, int[] targets) {
        int v = logits.dim(-1);
        int n = logits.rows();
        if (targets.length != n) {
            throw new IllegalArgumentException("crossEntropy: " + targets.length + " targets for " + n + " rows of "
                    + logits);
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] >= v) {
                throw new IllegalArgumentException("crossEntropy: targets[" + i + "]=" + targets[i]
                        + " outside [0, " + v + ") (negative ignores a row)");
            }
            if (targets[i] >= 0) {
                count++;
            }
        }
        float scale = count == 0 ? 0f : 1f / count;

        Device device = tape.device();
        int[] deviceTargets = device.allocateInts(n);
        System.arraycopy(targets, 0, deviceTargets, 0, n);
        device.copyToDevice(deviceTargets);
        float[] losses = device.allocateFloats(n);
        device.launch(org.moe4j.kernels.lib.CrossEntropy.grid(n), org.moe4j.kernels.lib.CrossEntropy::crossEntropyForward,
                losses, logits.data(), deviceTargets, n, v);

        boolean recorded = tape.needsGrad(logits);
        Tensor out = tape.output(recorded);
        int partials = Reduce.partialCount(n, Reduce.CHUNK);
        float[] partialSums = device.allocateFloats(partials);
        device.launch(Reduce.gridPartials(n, Reduce.CHUNK), Reduce::sumPartials, partialSums, losses, n, Reduce.CHUNK);
        device.launch(Reduce.gridFinal(), Reduce::sumFinal, out.data(), partialSums, partials, scale);
        device.release(partialSums);

        if (recorded) {
            tape.record(() -> {
                // dloss/dlosses[i] = 1/count; the kernel skips ignored rows.
                float[] dlosses = device.allocateFloats(n);
                device.launch(Elementwise.grid(n), Elementwise::broadcast, dlosses, out.grad(), scale, n);
                device.launch(org.moe4j.kernels.lib.CrossEntropy.grid(n),
                        org.moe4j.kernels.lib.CrossEntropy::crossEntropyBackward,
                        logits.grad(), dlosses, logits.data(), deviceTargets, n, v);
                device.release(dlosses);
            });
        }
        return out;
    }
}
