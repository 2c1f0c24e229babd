package org.moe4j.kernels.lib;

import org.moe4j.kernels.CpuInfo;

/**
 * The register and cache blocking of {@link GemmSimd}, chosen from the machine.
 *
 * <p>Register block: {@code mr} rows by {@code nrVectors} vectors of C stay in registers while the
 * micro-kernel runs along k, with one register for each B vector of the step and one for the
 * broadcast A value. With 32 registers (AVX-512, AArch64) that is 6 x 4 (24 accumulators, 29 in
 * all); with 16 (AVX2) 4 x 2 (8 accumulators, 11 in all): the JIT spilled an accumulator of 6 x 2,
 * which halved the block's speed on AVX2.
 *
 * <p>Cache blocking: a micro-panel of A ({@code mr x kc}) takes at most half of L1 and a panel of B
 * ({@code kc x nr}) a quarter of L2, so both stay where the micro-kernel reads them while the B
 * panel is reused for every micro-panel of an A block; the A block ({@code mc x kc}) takes at most
 * half of L2. A long k slice matters most: every slice loads and stores C once more (on a 2-core
 * Zen 5, kc = 1024 ran the input-gradient product 7% faster than 512 and 11% faster than 256).
 *
 * @param mr        rows of the register block
 * @param nrVectors vectors of the register block
 * @param kc        length of a k slice
 * @param mc        most rows of an A block, a multiple of {@code mr}
 */
record GemmBlocking(int mr, int nrVectors, int kc, int mc) {
    /** The k slice is a multiple of this (a cache line of floats) and at most {@link #MAX_KC}. */
    private static final int KC_STEP = 16;
    private static final int MAX_KC = 1024;

    GemmBlocking {
        if (!(mr == 6 && nrVectors == 4) && !(mr == 4 && nrVectors == 2)) {
            throw new IllegalArgumentException("register block " + mr + "x" + nrVectors + ": the micro-kernels are 6x4 and 4x2");
        }
        if (kc < 1 || mc < mr || mc % mr != 0) {
            throw new IllegalArgumentException("kc=" + kc + " must be positive and mc=" + mc + " a multiple of mr=" + mr);
        }
    }

    /** The blocking for {@code cpu}. */
    static GemmBlocking of(CpuInfo cpu) {
        boolean wide = cpu.vectorRegisters() >= 32;
        int mr = wide ? 6 : 4;
        int nr = (wide ? 4 : 2) * cpu.vectorFloats();
        int kc = Math.min(MAX_KC, Math.min(cpu.l1dBytes() / 2 / (mr * Float.BYTES), cpu.l2Bytes() / 4 / (nr * Float.BYTES)));
        kc = Math.max(KC_STEP, kc / KC_STEP * KC_STEP);
        int mc = Math.max(mr, cpu.l2Bytes() / 2 / (kc * Float.BYTES) / mr * mr);
        return new GemmBlocking(mr, wide ? 4 : 2, kc, mc);
    }
}
