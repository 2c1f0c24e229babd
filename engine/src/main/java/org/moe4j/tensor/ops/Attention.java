package org.moe4j.tensor.ops;

import java.util.Arrays;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Grid;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * Causal multi-head self-attention over packed query/key/value rows, with its backward; the
 * kernels are {@link org.moe4j.kernels.lib.Attention}.
 */
public final class Attention {
    private Attention() {
    }

    /**
     * {@code out[B,T,D]} = causal self-attention of {@code qkv[B,T,3D]}, whose last dimension holds
     * the query, key and value rows of each token side by side, each split into {@code heads} heads
     * of width {@code D / heads}. Token {@code t} attends to tokens {@code 0..t}; scores are
     * scaled by {@code 1/sqrt(D / heads)}.
     *
     * @param qkv   (B,T,3D), not modified
     * @param heads number of heads; must divide {@code D}
     * @throws IllegalArgumentException if {@code qkv} is not rank 3, its last dimension is not a
     *                                  positive multiple of 3, or {@code heads} does not divide {@code D}
     */
    public static Tensor causalSelfAttention(Tape tape, Tensor qkv, int heads) {
        if (qkv.rank() != 3) {
            throw new IllegalArgumentException("attention: qkv must have shape [B, T, 3D], got "
                    + Arrays.toString(qkv.shape()));
        }
        int B = qkv.dim(0);
        int T = qkv.dim(1);
        int C3 = qkv.dim(2);
        if (C3 == 0 || C3 % 3 != 0) {
            throw new IllegalArgumentException("attention: last dimension of qkv " + Arrays.toString(qkv.shape())
                    + " must be 3D for some D >= 1, got " + C3);
        }
        int D = C3 / 3;
        if (heads < 1 || D % heads != 0) {
            throw new IllegalArgumentException("attention: heads=" + heads + " must be positive and divide D=" + D);
        }
        int H = heads;
        long attSize = (long) B * H * T * T;
        if (attSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention: B*H*T*T = " + attSize + " (B=" + B + ", H=" + H + ", T=" + T
                    + ") exceeds 2^31-1 entries of the saved probabilities");
        }

        Device device = tape.device();
        boolean recorded = tape.needsGrad(qkv);
        Tensor out = tape.output(recorded, B, T, D);
        float[] att = device.allocateFloats((int) attSize); // (B,H,T,T) softmax probabilities
        Grid grid = org.moe4j.kernels.lib.Attention.grid(B, T, H);
        device.launch(grid, org.moe4j.kernels.lib.Attention::attentionForward, out.data(), att, qkv.data(), B, T, D, H);
        if (recorded) {
            tape.record(() -> backward(device, out, qkv, att, B, T, D, H));
        } else {
            device.release(att);
        }
        return out;
    }

    private static void backward(Device device, Tensor out, Tensor qkv, float[] att, int B, int T, int D, int H) {
        float[] dout = out.grad();
        float[] dqkv = qkv.grad();
        float[] dpreatt = device.allocateFloats(att.length); // (B,H,T,T) scratch
        Grid grid = org.moe4j.kernels.lib.Attention.grid(B, T, H);
        device.launch(grid, org.moe4j.kernels.lib.Attention::attentionBackwardScores,
                dpreatt, att, dout, qkv.data(), B, T, D, H);
        device.launch(grid, org.moe4j.kernels.lib.Attention::attentionBackwardQuery,
                dqkv, dpreatt, qkv.data(), B, T, D, H);
        device.launch(grid, org.moe4j.kernels.lib.Attention::attentionBackwardKeyValue,
                dqkv, dpreatt, att, dout, qkv.data(), B, T, D, H);
        device.release(dpreatt);
        device.release(att);
    }
}
