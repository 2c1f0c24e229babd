package org.moe4j.kernels.lib;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What {@link GemmSimd} does to a block of C as soon as its last k slice is summed, while the block
 * is still in L1: the GELU expert's activation fused into its products
 * ({@link BatchedGemm#matmulBiasGelu}, {@link BatchedGemm#matmulTransBGeluBackward}), so the hidden
 * activations are not read back from memory for separate passes. Whole vectors of a row take
 * {@link ElementwiseSimd}'s vector GELU, the columns after the last whole vector of a row of C the
 * portable kernel's scalar one, so the results are the bits of the unfused overrides wherever the
 * width of C is a multiple of the vector length (elsewhere within tanh's ulp of them).
 */
sealed interface GemmEpilogue {

    VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /**
     * Applies the epilogue to {@code rows} rows of {@code w} elements of C from {@code c[at]}, rows
     * {@code n} apart, the block's first column being column {@code j} of its matrix.
     */
    default void apply(float[] c, int at, int rows, int n, int j, int w) {
        // A scalar tail rather than masked vectors: masked loads and stores, even with every lane set,
        // made the fused expert FFN slower than the unfused passes.
        int whole = w - w % S.length();
        for (int r = 0; r < rows; r++) {
            int row = at + r * n;
            for (int v = 0; v < whole; v += S.length()) {
                vector(c, row + v, j + v);
            }
            for (int v = whole; v < w; v++) {
                scalar(c, row + v, j + v);
            }
        }
    }

    /** The epilogue of one vector of C from {@code c[at]}, the first in column {@code j} of its matrix. */
    void vector(float[] c, int at, int j);

    /** The epilogue of {@code c[at]}, in column {@code j} of its matrix. */
    void scalar(float[] c, int at, int j);

    /**
     * C is the pre-activation: {@code C += bias}, then {@code h = gelu(C)} at the same index.
     *
     * @param biasOff where the bias of C's matrix starts in {@code bias}
     */
    record BiasGelu(float[] h, float[] bias, int biasOff) implements GemmEpilogue {
        @Override
        public void vector(float[] c, int at, int j) {
            FloatVector x = FloatVector.fromArray(S, c, at).add(FloatVector.fromArray(S, bias, biasOff + j));
            x.intoArray(c, at);
            ElementwiseSimd.geluOf(x).intoArray(h, at);
        }

        @Override
        public void scalar(float[] c, int at, int j) {
            float x = c[at] + bias[biasOff + j];
            c[at] = x;
            h[at] = Activation.gelu(x);
        }
    }

    /** C is the gradient of the GELU's output: {@code C = gelu'(pre)·C}, pre at the same index. */
    record GeluSlope(float[] pre) implements GemmEpilogue {
        @Override
        public void vector(float[] c, int at, int j) {
            FloatVector slope = ElementwiseSimd.geluSlope(FloatVector.fromArray(S, pre, at));
            slope.mul(FloatVector.fromArray(S, c, at)).intoArray(c, at);
        }

        @Override
        public void scalar(float[] c, int at, int j) {
            c[at] = Activation.geluSlope(pre[at]) * c[at];
        }
    }
}
