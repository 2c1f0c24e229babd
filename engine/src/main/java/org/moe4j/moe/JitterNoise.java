package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tensor;

/**
 * The router's multiplicative jitter: factors {@code U(1 - j, 1 + j)}, one per element of the
 * global batch's {@code (N,D)} router input, from one {@link SplitMix64} stream per MoE layer. A
 * rank holding rows {@code [first, first + n)} of the global batch gets exactly the factors one
 * process would give those rows (the stream skips the others), so every rank ends each step with
 * the same state, and a checkpoint that saves it ({@link #state()}) resumes the same noise.
 */
public final class JitterNoise {
    private final SplitMix64 stream;
    private final float jitter;
    private final int width;

    JitterNoise(SplitMix64 stream, double jitter, int width) {
        this.stream = stream;
        this.jitter = (float) jitter;
        this.width = width;
    }

    /**
     * Rows {@code [first, first + n)} of the {@code (total, D)} factors of one step.
     *
     * @return (n,D), not requiring grad
     */
    Tensor factors(Device device, long first, int n, long total) {
        float[] u = new float[n * width];
        stream.skip(first * width);
        for (int i = 0; i < u.length; i++) {
            u[i] = 1f - jitter + 2f * jitter * stream.nextFloat();
        }
        stream.skip((total - first - n) * width);
        return Tensor.of(device, false, u, n, width);
    }

    /** The stream's state, to save in a checkpoint. */
    public long state() {
        return stream.state();
    }

    /** Continues the stream from a {@link #state()}. */
    public void setState(long state) {
        stream.setState(state);
    }
}
