package org.moe4j.random;

/**
 * Steele, Lea and Flood's SplitMix64 generator: a 64-bit counter run through a mixing function.
 * Its whole state is one {@code long} ({@link #state()} / {@link #setState(long)}), which is why
 * it is used instead of {@code java.util.Random}: a checkpoint stores that long and the resumed run
 * continues the exact sequence. Not thread-safe; give each consumer its own instance.
 *
 * <p>The output for seed 0 starts {@code 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4}, the values of
 * the reference C implementation, so sequences can be reproduced in other languages.
 */
public final class SplitMix64 {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    /** A generator whose first output is the mix of {@code seed + GOLDEN_GAMMA}. */
    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** The complete state; {@code new SplitMix64(s)} or {@code setState(s)} continues from here. */
    public long state() {
        return state;
    }

    /** Restores a state taken with {@link #state()}. */
    public void setState(long state) {
        this.state = state;
    }

    /** The next 64 uniformly distributed bits. */
    public long nextLong() {
        long z = (state += GOLDEN_GAMMA);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The next 32 uniformly distributed bits. */
    public int nextInt() {
        return (int) (nextLong() >>> 32);
    }

    /**
     * A uniform integer in {@code [0, bound)}.
     *
     * @throws IllegalArgumentException if {@code bound <= 0}
     */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        // Lemire's multiply-and-reject: unbiased, and rejects at most rarely (probability < bound / 2^32).
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** A uniform float in {@code [0, 1)} with 24 random bits, every value exactly representable. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** A uniform double in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /**
     * A standard normal sample (mean 0, standard deviation 1) by Box-Muller. It keeps no spare
     * second sample, as {@code java.util.Random} does, because a cached spare would be state outside
     * the one saved {@code long}.
     */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log(0) would be -infinity
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** Moves ahead {@code draws} outputs without computing them (the state is a counter). */
    public void skip(long draws) {
        state += draws * GOLDEN_GAMMA;
    }

    /** A new generator seeded from this one's next output, for handing to an independent consumer. */
    public SplitMix64 split() {
        return new SplitMix64(nextLong());
    }
}
