package org.moe4j.kernels.lib;

import org.moe4j.kernels.Grid;
import org.moe4j.kernels.KernelContext;

/**
 * Causal multi-head self-attention in the llm.c layout, forward and backward.
 *
 * <p>Shapes: {@code qkv (B,T,3D)} holds, per token, the query, key and value rows concatenated
 * ({@code q = qkv[..., 0:D]}, {@code k = qkv[..., D:2D]}, {@code v = qkv[..., 2D:3D]}); each is
 * split into {@code H} heads of width {@code hs = D / H} (head {@code h} owns columns
 * {@code h*hs .. h*hs+hs-1}). {@code out (B,T,D)} has the heads side by side. {@code att (B,H,T,T)}
 * holds the softmax probabilities saved for the backward pass, row {@code t} over keys
 * {@code t2}; masked entries ({@code t2 > t}) are 0. Scores are scaled by {@code 1/sqrt(hs)}.
 *
 * <p>Every kernel runs one work-item per {@code (b, t, h)} (see {@link #grid}); work-item
 * {@code i} is {@code b = i / (T*H)}, {@code t = (i / H) % T}, {@code h = i % H}. Each writes only
 * its own outputs and adds terms into them one at a time in a fixed order (as llm.c does: the
 * token loop outside, the contiguous head columns inside, which the JIT vectorizes), so results
 * do not depend on the schedule or the thread count. The
 * backward pass is three launches, in this order: {@link #attentionBackwardScores} (gradient of
 * the pre-softmax scores into a scratch array), then {@link #attentionBackwardQuery} and
 * {@link #attentionBackwardKeyValue}, which accumulate ({@code +=}) into disjoint parts of
 * {@code dqkv}.
 */
public final class Attention {
    private Attention() {
    }

    /** One work-item per {@code (b, t, h)}: {@code B*T*H} items, rounded up to whole work-groups. */
    public static Grid grid(int B, int T, int H) {
        return Grid.of(B * T * H);
    }

    /**
     * One work-item: for query token {@code t} of sequence {@code b} in head {@code h}, the scaled
     * scores against keys {@code t2 <= t}, their softmax (max-subtracted), and the weighted sum of
     * the values.
     *
     * @param out (B,T,D) <em>modified</em>: columns {@code h*hs ..} of row {@code (b,t)} are written
     * @param att (B,H,T,T) <em>modified</em>: row {@code (b,h,t)} is written, zeros past {@code t}
     * @param qkv (B,T,3D) not modified
     */
    public static void attentionForward(KernelContext ctx, float[] out, float[] att, float[] qkv,
                                        int B, int T, int D, int H) {
        int i = ctx.globalIdx;
        if (i >= B * T * H) {
            return;
        }
        int h = i % H;
        int t = (i / H) % T;
        int b = i / (T * H);
        int hs = D / H;
        int C3 = 3 * D;
        float scale = (float) (1.0 / Math.sqrt(hs));
        int q = (b * T + t) * C3 + h * hs;
        int row = ((b * H + h) * T + t) * T;

        // att[t2] = scale * q·k[t2], and the running maximum
        float max = Float.NEGATIVE_INFINITY;
        for (int t2 = 0; t2 <= t; t2++) {
            int k = (b * T + t2) * C3 + D + h * hs;
            float dot = 0f;
            for (int d = 0; d < hs; d++) {
                dot += qkv[q + d] * qkv[k + d];
            }
            float score = dot * scale;
            att[row + t2] = score;
            if (score > max) {
                max = score;
            }
        }
        // softmax over t2 <= t; masked entries are 0
        float sum = 0f;
        for (int t2 = 0; t2 <= t; t2++) {
            float e = (float) Math.exp(att[row + t2] - max);
            att[row + t2] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int t2 = 0; t2 <= t; t2++) {
            att[row + t2] = att[row + t2] * inv;
        }
        for (int t2 = t + 1; t2 < T; t2++) {
            att[row + t2] = 0f;
        }
        // out[d] = sum_t2 att[t2] * v[t2][d]
        int o = (b * T + t) * D + h * hs;
        for (int d = 0; d < hs; d++) {
            out[o + d] = 0f;
        }
        for (int t2 = 0; t2 <= t; t2++) {
            float a = att[row + t2];
            int v = (b * T + t2) * C3 + 2 * D + h * hs;
            for (int d = 0; d < hs; d++) {
                out[o + d] += a * qkv[v + d];
            }
        }
    }

    /**
     * One work-item: the gradient of row {@code (b,h,t)} of the pre-softmax scores, scale included:
     * {@code datt[t2] = dout[t]·v[t2]}, {@code dpreatt[t2] = att[t2] * (datt[t2] - sum_j att[j]*datt[j]) * scale}
     * for {@code t2 <= t}, and 0 past {@code t}.
     *
     * @param dpreatt (B,H,T,T) <em>modified</em>: row {@code (b,h,t)} is written (not accumulated)
     * @param att     (B,H,T,T) softmax probabilities from {@link #attentionForward}, not modified
     * @param dout    (B,T,D) gradient of the output, not modified
     * @param qkv     (B,T,3D) not modified
     */
    public static void attentionBackwardScores(KernelContext ctx, float[] dpreatt, float[] att, float[] dout,
                                               float[] qkv, int B, int T, int D, int H) {
        int i = ctx.globalIdx;
        if (i >= B * T * H) {
            return;
        }
        int h = i % H;
        int t = (i / H) % T;
        int b = i / (T * H);
        int hs = D / H;
        int C3 = 3 * D;
        float scale = (float) (1.0 / Math.sqrt(hs));
        int o = (b * T + t) * D + h * hs;
        int row = ((b * H + h) * T + t) * T;

        // datt[t2] = dout[t]·v[t2], kept in dpreatt for now; s = sum att*datt
        float s = 0f;
        for (int t2 = 0; t2 <= t; t2++) {
            int v = (b * T + t2) * C3 + 2 * D + h * hs;
            float dot = 0f;
            for (int d = 0; d < hs; d++) {
                dot += dout[o + d] * qkv[v + d];
            }
            dpreatt[row + t2] = dot;
            s += att[row + t2] * dot;
        }
        for (int t2 = 0; t2 <= t; t2++) {
            dpreatt[row + t2] = att[row + t2] * (dpreatt[row + t2] - s) * scale;
        }
        for (int t2 = t + 1; t2 < T; t2++) {
            dpreatt[row + t2] = 0f;
        }
    }

    /**
     * One work-item: accumulates the query gradient of token {@code t} in head {@code h},
     * {@code dq[t] += sum_{t2 <= t} dpreatt[t][t2] * k[t2]}.
     *
     * @param dqkv    (B,T,3D) <em>modified</em>: {@code +=} into the query columns {@code h*hs ..} of row {@code (b,t)}
     * @param dpreatt (B,H,T,T) from {@link #attentionBackwardScores}, not modified
     * @param qkv     (B,T,3D) not modified
     */
    public static void attentionBackwardQuery(KernelContext ctx, float[] dqkv, float[] dpreatt, float[] qkv,
                                              int B, int T, int D, int H) {
        int i = ctx.globalIdx;
        if (i >= B * T * H) {
            return;
        }
        int h = i % H;
        int t = (i / H) % T;
        int b = i / (T * H);
        int hs = D / H;
        int C3 = 3 * D;
        int q = (b * T + t) * C3 + h * hs;
        int row = ((b * H + h) * T + t) * T;
        for (int t2 = 0; t2 <= t; t2++) {
            float dp = dpreatt[row + t2];
            int k = (b * T + t2) * C3 + D + h * hs;
            for (int d = 0; d < hs; d++) {
                dqkv[q + d] += dp * qkv[k + d];
            }
        }
    }

    /**
     * One work-item, here for key/value token {@code t2 = (i / H) % T}: accumulates
     * {@code dk[t2] += sum_{t >= t2} dpreatt[t][t2] * q[t]} and
     * {@code dv[t2] += sum_{t >= t2} att[t][t2] * dout[t]}.
     *
     * @param dqkv    (B,T,3D) <em>modified</em>: {@code +=} into the key and value columns of head {@code h} in row {@code (b,t2)}
     * @param dpreatt (B,H,T,T) from {@link #attentionBackwardScores}, not modified
     * @param att     (B,H,T,T) from {@link #attentionForward}, not modified
     * @param dout    (B,T,D) not modified
     * @param qkv     (B,T,3D) not modified
     */
    public static void attentionBackwardKeyValue(KernelContext ctx, float[] dqkv, float[] dpreatt, float[] att,
                                                 float[] dout, float[] qkv, int B, int T, int D, int H) {
        int i = ctx.globalIdx;
        if (i >= B * T * H) {
            return;
        }
        int h = i % H;
        int t2 = (i / H) % T;
        int b = i / (T * H);
        int hs = D / H;
        int C3 = 3 * D;
        int k = (b * T + t2) * C3 + D + h * hs;
        int v = k + D;
        int head = (b * H + h) * T * T;
        for (int t = t2; t < T; t++) {
            float dp = dpreatt[head + t * T + t2];
            float a = att[head + t * T + t2];
            int q = (b * T + t) * C3 + h * hs;
            int o = (b * T + t) * D + h * hs;
            for (int d = 0; d < hs; d++) {
                dqkv[k + d] += dp * qkv[q + d];
                dqkv[v + d] += a * dout[o + d];
            }
        }
    }
}
