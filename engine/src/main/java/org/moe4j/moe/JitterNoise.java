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
        return draw(first, n, total).factors(device);
    }

    /**
     * Draws one step's factors: the stream moves past all {@code total·D} of them, and the returned
     * rows give this rank's {@code [first, first + n)} as often as asked (a recomputed forward pass
     * gets the very factors of the first).
     */
    Rows draw(long first, int n, long total) {
        Rows rows = new Rows(stream.state(), first, n, width, jitter);
        stream.skip(total * width);
        return rows;
    }

    /**
     * Rows of one step's factors, by the stream state they start from.
     *
     * @param start the stream's state before the step's first factor
     */
    record Rows(long start, long first, int n, int width, float jitter) {
        /** @return (n,D), not requiring grad */
        Tensor factors(Device device) {
            SplitMix64 stream = new SplitMix64(start);
            stream.skip(first * width);
            float[] u = new float[n * width];
            for (int i = 0; i < u.length; i++) {
                u[i] = 1f - jitter + 2f * jitter * stream.nextFloat();
            }
            return Tensor.of(device, false, u, n, width);
        }
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
