package org.moe4j.tensor.ops;

import org.moe4j.tensor.GradCheck;

/**
 * The mean cross-entropy of logits {@code (N,V)} against targets, in double: the mean over rows
 * with a target (a negative target is ignored) of {@code logsumexp(z) - z[target]}, and its
 * gradient {@code (softmax(z) - onehot) / count}. The reference of the cross-entropy op, and the
 * objective of whole-model gradient checks.
 */
public record CrossEntropyReference(int[] targets, int vocab) implements GradCheck.Objective {

    @Override
    public double value(float[] logits) {
        double total = 0;
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] >= 0) {
                total += logSumExp(logits, r) - logits[r * vocab + targets[r]];
            }
        }
        return count() == 0 ? 0 : total / count();
    }

    /** The gradient in double. */
    public double[] exactGradient(float[] logits) {
        double[] grad = new double[logits.length];
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] < 0) {
                continue;
            }
            double lse = logSumExp(logits, r);
            for (int j = 0; j < vocab; j++) {
                grad[r * vocab + j] = (Math.exp(logits[r * vocab + j] - lse) - (j == targets[r] ? 1 : 0)) / count();
            }
        }
        return grad;
    }

    @Override
    public float[] gradient(float[] logits) {
        double[] exact = exactGradient(logits);
        float[] grad = new float[exact.length];
        for (int i = 0; i < grad.length; i++) {
            grad[i] = (float) exact[i];
        }
        return grad;
    }

    private int count() {
        int count = 0;
        for (int t : targets) {
            count += t >= 0 ? 1 : 0;
        }
        return count;
    }

    private double logSumExp(float[] logits, int row) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, logits[row * vocab + j]);
        }
        double sum = 0;
        for (int j = 0; j < vocab; j++) {
            sum += Math.exp(logits[row * vocab + j] - max);
        }
        return max + Math.log(sum);
    }
}
