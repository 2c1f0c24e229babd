package org.moe4j.kernels.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.compiler.MathMode;
import org.moe4j.kernels.lib.Activation;
import org.moe4j.kernels.lib.AdamW;
import org.moe4j.kernels.lib.Attention;
import org.moe4j.kernels.lib.BatchedGemm;
import org.moe4j.kernels.lib.Bias;
import org.moe4j.kernels.lib.CrossEntropy;
import org.moe4j.kernels.lib.Dispatch;
import org.moe4j.kernels.lib.Elementwise;
import org.moe4j.kernels.lib.Embedding;
import org.moe4j.kernels.lib.Gemm;
import org.moe4j.kernels.lib.LayerNorm;
import org.moe4j.kernels.lib.Reduce;
import org.moe4j.kernels.lib.RmsNorm;
import org.moe4j.kernels.lib.Router;
import org.moe4j.kernels.lib.RouterLoss;
import org.moe4j.kernels.lib.Softmax;
import org.moe4j.kernels.differential.RoutingInputs.Plan;

/**
 * Every kernel of the library as a differential case: seeded random inputs of several shapes,
 * sizes not multiples of the work-group size among them, run on the JVM device and on a compiled
 * device ({@code OpenClDifferentialTest}, {@code CudaDifferentialTest}). Kernels without
 * transcendental functions must agree bit for bit; the others within the ulps stated per case,
 * counted at the scale of the output array ({@code |a - r| <= ulps * ulp(max |r|)}), since
 * backward kernels subtract nearly equal terms.
 */
public final class DifferentialCases {
    private DifferentialCases() {
    }

    /** A kernel, a shape, inputs, and how to launch it; {@code ulps} 0 means bit for bit. */
    public record Case(String kernel, String shape, Function<SplittableRandom, Object[]> inputs,
                BiConsumer<Device, Object[]> run, double ulps, double strictUlps) {
        @Override
        public String toString() {
            return kernel + " " + shape;
        }
    }

    private static Case exact(String kernel, String shape, Function<SplittableRandom, Object[]> inputs,
                              BiConsumer<Device, Object[]> run) {
        return new Case(kernel, shape, inputs, run, 0, 0);
    }

    private static Case approx(String kernel, String shape, double ulps, double strictUlps,
                               Function<SplittableRandom, Object[]> inputs, BiConsumer<Device, Object[]> run) {
        return new Case(kernel, shape, inputs, run, ulps, strictUlps);
    }

    static float[] floats(SplittableRandom r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    static float[] f(Object o) {
        return (float[]) o;
    }

    static int[] ints(SplittableRandom r, int n, int lo, int hi) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextInt(lo, hi);
        }
        return a;
    }

    public static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        for (int n : new int[] {1, 63, 200}) {
            String s = "n=" + n;
            c.add(exact("Elementwise.add", s, r -> new Object[] {new float[n], floats(r, n, -2, 2), floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::add, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(exact("Elementwise.accumulate", s, r -> new Object[] {floats(r, n, -2, 2), floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::accumulate, f(a[0]), f(a[1]), n)));
            c.add(exact("Elementwise.scale", s, r -> new Object[] {floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::scale, f(a[0]), 0.37f, n)));
            c.add(exact("Elementwise.fill", s, r -> new Object[] {floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::fill, f(a[0]), -1.5f, n)));
            c.add(exact("Elementwise.broadcast", s, r -> new Object[] {new float[n], floats(r, 1, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::broadcast, f(a[0]), f(a[1]), 0.25f, n)));
            c.add(exact("Elementwise.multiply", s, r -> new Object[] {floats(r, n, -2, 2), floats(r, n, -2, 2), floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::multiply, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(exact("Elementwise.multiplyBackward", s, r -> new Object[] {floats(r, n, -2, 2), floats(r, n, -2, 2),
                            floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Elementwise.grid(n), Elementwise::multiplyBackward, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(approx("Activation.geluForward", s, 4, 2, r -> new Object[] {new float[n], floats(r, n, -6, 6)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::geluForward, f(a[0]), f(a[1]), n)));
            c.add(approx("Activation.geluBackward", s, 16, 2, r -> new Object[] {floats(r, n, -1, 1), floats(r, n, -6, 6), floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::geluBackward, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(approx("Activation.siluForward", s, 4, 2, r -> new Object[] {new float[n], floats(r, n, -6, 6)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::siluForward, f(a[0]), f(a[1]), n)));
            c.add(approx("Activation.siluBackward", s, 8, 2, r -> new Object[] {floats(r, n, -1, 1), floats(r, n, -6, 6), floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::siluBackward, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(approx("Activation.sigmoidForward", s, 4, 2, r -> new Object[] {new float[n], floats(r, n, -6, 6)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::sigmoidForward, f(a[0]), f(a[1]), n)));
            c.add(approx("Activation.sigmoidBackward", s, 8, 2, r -> new Object[] {floats(r, n, -1, 1), floats(r, n, -6, 6), floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::sigmoidBackward, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(exact("Activation.reluForward", s, r -> new Object[] {new float[n], floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::reluForward, f(a[0]), f(a[1]), n)));
            c.add(exact("Activation.reluBackward", s, r -> new Object[] {floats(r, n, -1, 1), floats(r, n, -2, 2), floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::reluBackward, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(exact("Activation.squaredReluForward", s, r -> new Object[] {new float[n], floats(r, n, -2, 2)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::squaredReluForward, f(a[0]), f(a[1]), n)));
            c.add(exact("Activation.squaredReluBackward", s, r -> new Object[] {floats(r, n, -1, 1), floats(r, n, -2, 2), floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Activation.grid(n), Activation::squaredReluBackward, f(a[0]), f(a[1]), f(a[2]), n)));
            c.add(exact("AdamW.update", s, r -> new Object[] {floats(r, n, -1, 1), floats(r, n, -1, 1), floats(r, n, -0.1, 0.1),
                            floats(r, n, 0, 0.01)},
                    (d, a) -> d.launch(AdamW.grid(n), AdamW::update, f(a[0]), f(a[1]), f(a[2]), f(a[3]), 3e-3f, 0.9f, 0.95f,
                            1e-8f, 0.1f, 0.271f, 0.0975f, n)));
            c.add(exact("Reduce.sumPartials", s, r -> new Object[] {new float[Reduce.partialCount(n, 16)], floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Reduce.gridPartials(n, 16), Reduce::sumPartials, f(a[0]), f(a[1]), n, 16)));
            c.add(exact("Reduce.sumOfSquaresPartials", s, r -> new Object[] {new float[Reduce.partialCount(n, 16)], floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Reduce.gridPartials(n, 16), Reduce::sumOfSquaresPartials, f(a[0]), f(a[1]), n, 16)));
            c.add(exact("Reduce.sumFinal", s, r -> new Object[] {new float[1], floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Reduce.gridFinal(), Reduce::sumFinal, f(a[0]), f(a[1]), n, 0.5f)));
        }
        for (int n : new int[] {5, 300, 1000}) {
            c.add(exact("Reduce.sumWorkGroup", "n=" + n, r -> new Object[] {new float[Reduce.workGroupCount(n)], floats(r, n, -1, 1)},
                    (d, a) -> d.launch(Reduce.gridWorkGroup(n), Reduce::sumWorkGroup, f(a[0]), f(a[1]), n)));
        }
        for (int[] no : new int[][] {{1, 1}, {7, 13}, {33, 70}}) {
            int n = no[0];
            int o = no[1];
            String s = "n=" + n + " o=" + o;
            c.add(exact("Bias.addBias", s, r -> new Object[] {floats(r, n * o, -1, 1), floats(r, o, -1, 1)},
                    (d, a) -> d.launch(Bias.grid(n, o), Bias::addBias, f(a[0]), f(a[1]), n, o)));
            c.add(exact("Bias.biasBackward", s, r -> new Object[] {floats(r, o, -1, 1), floats(r, n * o, -1, 1)},
                    (d, a) -> d.launch(Bias.gridBackward(o), Bias::biasBackward, f(a[0]), f(a[1]), n, o)));
            int v = o;
            c.add(exact("Embedding.embeddingForward", "n=" + n + " d=" + o, r -> new Object[] {new float[n * o], floats(r, 11 * o, -1, 1),
                            ints(r, n, 0, 11)},
                    (d, a) -> d.launch(Embedding.grid(n, o), Embedding::embeddingForward, f(a[0]), f(a[1]), (int[]) a[2], n, o)));
            c.add(exact("Embedding.embeddingBackward", "n=" + n + " d=" + o, r -> new Object[] {floats(r, 11 * o, -1, 1),
                            floats(r, n * o, -1, 1), ints(r, n, 0, 11)},
                    (d, a) -> d.launch(Embedding.gridBackward(o), Embedding::embeddingBackward, f(a[0]), f(a[1]), (int[]) a[2], n, o)));
            String rows = "n=" + n + " d=" + v;
            c.add(exact("RmsNorm.rmsNormForward", rows, r -> new Object[] {new float[n * v], new float[n], floats(r, n * v, -2, 2),
                            floats(r, v, 0.5, 1.5)},
                    (d, a) -> d.launch(RmsNorm.grid(n), RmsNorm::rmsNormForward, f(a[0]), f(a[1]), f(a[2]), f(a[3]), n, v, 1e-5f)));
            c.add(exact("RmsNorm.rmsNormBackward", rows, r -> new Object[] {floats(r, n * v, -1, 1), floats(r, n * v, -1, 1),
                            floats(r, n * v, -2, 2), floats(r, v, 0.5, 1.5), floats(r, n, 0.5, 2)},
                    (d, a) -> d.launch(RmsNorm.grid(n), RmsNorm::rmsNormBackward, f(a[0]), f(a[1]), f(a[2]), f(a[3]), f(a[4]), n, v)));
            c.add(exact("RmsNorm.rmsNormWeightBackward", rows, r -> new Object[] {floats(r, v, -1, 1), floats(r, n * v, -1, 1),
                            floats(r, n * v, -2, 2), floats(r, n, 0.5, 2)},
                    (d, a) -> d.launch(RmsNorm.gridWeightBackward(v), RmsNorm::rmsNormWeightBackward, f(a[0]), f(a[1]), f(a[2]),
                            f(a[3]), n, v)));
            c.add(exact("LayerNorm.layerNormForward", rows, r -> new Object[] {new float[n * v], new float[n], new float[n],
                            floats(r, n * v, -2, 2), floats(r, v, 0.5, 1.5), floats(r, v, -0.5, 0.5)},
                    (d, a) -> d.launch(LayerNorm.grid(n), LayerNorm::layerNormForward, f(a[0]), f(a[1]), f(a[2]), f(a[3]), f(a[4]),
                            f(a[5]), n, v, 1e-5f)));
            c.add(exact("LayerNorm.layerNormBackward", rows, r -> new Object[] {floats(r, n * v, -1, 1), floats(r, n * v, -1, 1),
                            floats(r, n * v, -2, 2), floats(r, v, 0.5, 1.5), floats(r, n, -0.5, 0.5), floats(r, n, 0.5, 2)},
                    (d, a) -> d.launch(LayerNorm.grid(n), LayerNorm::layerNormBackward, f(a[0]), f(a[1]), f(a[2]), f(a[3]), f(a[4]),
                            f(a[5]), n, v)));
            c.add(exact("LayerNorm.layerNormParamBackward", rows, r -> new Object[] {floats(r, v, -1, 1), floats(r, v, -1, 1),
                            floats(r, n * v, -1, 1), floats(r, n * v, -2, 2), floats(r, n, -0.5, 0.5), floats(r, n, 0.5, 2)},
                    (d, a) -> d.launch(LayerNorm.gridParamBackward(v), LayerNorm::layerNormParamBackward, f(a[0]), f(a[1]), f(a[2]),
                            f(a[3]), f(a[4]), f(a[5]), n, v)));
            c.add(approx("Softmax.softmaxForward", rows, 4, 2, r -> new Object[] {new float[n * v], floats(r, n * v, -8, 8)},
                    (d, a) -> d.launch(Softmax.grid(n), Softmax::softmaxForward, f(a[0]), f(a[1]), n, v)));
            c.add(exact("Softmax.softmaxBackward", rows, r -> new Object[] {floats(r, n * v, -1, 1), floats(r, n * v, -1, 1),
                            floats(r, n * v, 0, 1)},
                    (d, a) -> d.launch(Softmax.grid(n), Softmax::softmaxBackward, f(a[0]), f(a[1]), f(a[2]), n, v)));
            c.add(approx("Softmax.logSoftmaxForward", rows, 4, 2, r -> new Object[] {new float[n * v], floats(r, n * v, -8, 8)},
                    (d, a) -> d.launch(Softmax.grid(n), Softmax::logSoftmaxForward, f(a[0]), f(a[1]), n, v)));
            c.add(approx("Softmax.logSoftmaxBackward", rows, 8, 2, r -> new Object[] {floats(r, n * v, -1, 1), floats(r, n * v, -1, 1),
                            floats(r, n * v, -6, 0)},
                    (d, a) -> d.launch(Softmax.grid(n), Softmax::logSoftmaxBackward, f(a[0]), f(a[1]), f(a[2]), n, v)));
            c.add(approx("CrossEntropy.crossEntropyForward", rows, 4, 2, r -> new Object[] {new float[n], floats(r, n * v, -8, 8),
                            ints(r, n, -1, v)},
                    (d, a) -> d.launch(CrossEntropy.grid(n), CrossEntropy::crossEntropyForward, f(a[0]), f(a[1]), (int[]) a[2], n, v)));
            c.add(approx("CrossEntropy.crossEntropyBackward", rows, 8, 2, r -> new Object[] {floats(r, n * v, -1, 1), floats(r, n, 0, 1),
                            floats(r, n * v, -8, 8), ints(r, n, -1, v)},
                    (d, a) -> d.launch(CrossEntropy.grid(n), CrossEntropy::crossEntropyBackward, f(a[0]), f(a[1]), f(a[2]),
                            (int[]) a[3], n, v)));
        }
        for (int[] mnk : new int[][] {{1, 1, 1}, {17, 33, 29}, {40, 16, 7}}) {
            int m = mnk[0];
            int n = mnk[1];
            int k = mnk[2];
            String s = "m=" + m + " n=" + n + " k=" + k;
            c.add(exact("Gemm.matmul", s, r -> new Object[] {floats(r, m * n, -1, 1), floats(r, m * k, -1, 1), floats(r, k * n, -1, 1)},
                    (d, a) -> d.launch(Gemm.grid(m, n), Gemm::matmul, f(a[0]), f(a[1]), f(a[2]), m, n, k, 1f)));
            c.add(exact("Gemm.matmulTransB", s, r -> new Object[] {floats(r, m * n, -1, 1), floats(r, m * k, -1, 1), floats(r, n * k, -1, 1)},
                    (d, a) -> d.launch(Gemm.grid(m, n), Gemm::matmulTransB, f(a[0]), f(a[1]), f(a[2]), m, n, k, 0f)));
            c.add(exact("Gemm.matmulTransA", s, r -> new Object[] {floats(r, m * n, -1, 1), floats(r, k * m, -1, 1), floats(r, k * n, -1, 1)},
                    (d, a) -> d.launch(Gemm.grid(m, n), Gemm::matmulTransA, f(a[0]), f(a[1]), f(a[2]), m, n, k, 1f)));
        }
        for (int[] bthd : new int[][] {{1, 1, 4, 1}, {2, 5, 12, 3}, {1, 17, 8, 2}}) {
            int B = bthd[0];
            int T = bthd[1];
            int D = bthd[2];
            int H = bthd[3];
            String s = "B=" + B + " T=" + T + " D=" + D + " H=" + H;
            Grid g = Attention.grid(B, T, H);
            c.add(approx("Attention.attentionForward", s, 8, 2, r -> new Object[] {new float[B * T * D], new float[B * H * T * T],
                            floats(r, B * T * 3 * D, -1, 1)},
                    (d, a) -> d.launch(g, Attention::attentionForward, f(a[0]), f(a[1]), f(a[2]), B, T, D, H)));
            c.add(exact("Attention.attentionBackwardScores", s, r -> new Object[] {new float[B * H * T * T], floats(r, B * H * T * T, 0, 1),
                            floats(r, B * T * D, -1, 1), floats(r, B * T * 3 * D, -1, 1)},
                    (d, a) -> d.launch(g, Attention::attentionBackwardScores, f(a[0]), f(a[1]), f(a[2]), f(a[3]), B, T, D, H)));
            c.add(exact("Attention.attentionBackwardQuery", s, r -> new Object[] {floats(r, B * T * 3 * D, -1, 1),
                            floats(r, B * H * T * T, -1, 1), floats(r, B * T * 3 * D, -1, 1)},
                    (d, a) -> d.launch(g, Attention::attentionBackwardQuery, f(a[0]), f(a[1]), f(a[2]), B, T, D, H)));
            c.add(exact("Attention.attentionBackwardKeyValue", s, r -> new Object[] {floats(r, B * T * 3 * D, -1, 1),
                            floats(r, B * H * T * T, -1, 1), floats(r, B * H * T * T, 0, 1), floats(r, B * T * D, -1, 1),
                            floats(r, B * T * 3 * D, -1, 1)},
                    (d, a) -> d.launch(g, Attention::attentionBackwardKeyValue, f(a[0]), f(a[1]), f(a[2]), f(a[3]), f(a[4]),
                            B, T, D, H)));
        }
        for (int[] bmnk : new int[][] {{1, 1, 1, 1}, {3, 17, 33, 29}, {4, 5, 18, 40}}) {
            int batch = bmnk[0];
            int m = bmnk[1];
            int n = bmnk[2];
            int k = bmnk[3];
            String s = "batch=" + batch + " m=" + m + " n=" + n + " k=" + k;
            Grid g = BatchedGemm.grid(batch, m, n);
            c.add(exact("BatchedGemm.matmul", s, r -> new Object[] {floats(r, batch * m * n, -1, 1), floats(r, batch * m * k, -1, 1),
                            floats(r, batch * k * n, -1, 1)},
                    (d, a) -> d.launch(g, BatchedGemm::matmul, f(a[0]), f(a[1]), f(a[2]), batch, m, n, k, 1f)));
            c.add(exact("BatchedGemm.matmulTransB", s, r -> new Object[] {floats(r, batch * m * n, -1, 1),
                            floats(r, batch * m * k, -1, 1), floats(r, batch * n * k, -1, 1)},
                    (d, a) -> d.launch(g, BatchedGemm::matmulTransB, f(a[0]), f(a[1]), f(a[2]), batch, m, n, k, 0f)));
            c.add(exact("BatchedGemm.matmulTransA", s, r -> new Object[] {floats(r, batch * m * n, -1, 1),
                            floats(r, batch * k * m, -1, 1), floats(r, batch * k * n, -1, 1)},
                    (d, a) -> d.launch(g, BatchedGemm::matmulTransA, f(a[0]), f(a[1]), f(a[2]), batch, m, n, k, 1f)));
            // GELU in the store: the forward within Activation.geluForward's ulps; the backward's gelu' is
            // off by geluBackward's, but times the product and counted at the product's scale, up to twice that.
            c.add(approx("BatchedGemm.matmulBiasGelu", s, 4, 2, r -> new Object[] {new float[batch * m * n],
                            new float[batch * m * n], floats(r, batch * m * k, -1, 1), floats(r, batch * k * n, -1, 1),
                            floats(r, batch * n, -1, 1)},
                    (d, a) -> d.launch(g, BatchedGemm::matmulBiasGelu, f(a[0]), f(a[1]), f(a[2]), f(a[3]), f(a[4]),
                            batch, m, n, k)));
            c.add(approx("BatchedGemm.matmulTransBGeluBackward", s, 32, 2, r -> new Object[] {new float[batch * m * n],
                            floats(r, batch * m * k, -1, 1), floats(r, batch * n * k, -1, 1), floats(r, batch * m * n, -6, 6)},
                    (d, a) -> d.launch(g, BatchedGemm::matmulTransBGeluBackward, f(a[0]), f(a[1]), f(a[2]), f(a[3]),
                            batch, m, n, k)));
        }
        for (int[] bro : new int[][] {{1, 1, 1}, {3, 7, 13}, {4, 17, 5}}) {
            int batch = bro[0];
            int rows = bro[1];
            int o = bro[2];
            String s = "batch=" + batch + " rows=" + rows + " o=" + o;
            c.add(exact("Bias.addBiasBatched", s, r -> new Object[] {floats(r, batch * rows * o, -1, 1), floats(r, batch * o, -1, 1)},
                    (d, a) -> d.launch(Bias.gridBatched(batch, rows, o), Bias::addBiasBatched, f(a[0]), f(a[1]), batch, rows, o)));
            c.add(exact("Bias.biasBackwardBatched", s, r -> new Object[] {floats(r, batch * o, -1, 1), floats(r, batch * rows * o, -1, 1)},
                    (d, a) -> d.launch(Bias.gridBackwardBatched(batch, o), Bias::biasBackwardBatched, f(a[0]), f(a[1]), batch, rows,
                            o)));
        }
        moeCases(c);
        return c.stream();
    }

    /**
     * Routing, dispatch and router losses on valid inputs ({@link RoutingInputs}): probabilities
     * that are softmax outputs, choices that are their top-k, slot tables consistent with the
     * capacity. Shapes: top-k and 2 prototypes of 4 experts with a capacity factor of 0.5
     * (assignments dropped, tokens left without an expert), and expert choice; "ties" shapes
     * draw the logits from 3 values, so equal probabilities are common and tie-breaking must agree.
     */
    private static void moeCases(List<Case> c) {
        record Routing(String name, int n, int e, int groups, int kPerGroup, int levels, boolean expertChoice) {
            int size() {
                return e / groups;
            }

            int j() {
                return expertChoice ? e : groups * kPerGroup;
            }

            int capacity() {
                double x = expertChoice ? n * 1.25 / e : (double) kPerGroup * n / size() * 0.5;
                return (int) Math.max(1, Math.min(n, Math.ceil(x)));
            }

            float[] logits(SplittableRandom r) {
                return RoutingInputs.logits(r, n, e, levels);
            }

            float[] probs(float[] logits) {
                return RoutingInputs.softmax(logits, size());
            }

            Plan plan(float[] probs) {
                return expertChoice ? RoutingInputs.expertChoice(probs, n, e, capacity())
                        : RoutingInputs.topK(probs, n, e, groups, kPerGroup, capacity());
            }

            @Override
            public String toString() {
                return name + " N=" + n + " E=" + e + " C=" + capacity();
            }
        }
        Routing top2 = new Routing("top-2", 37, 6, 1, 2, 0, false);
        Routing top3Ties = new Routing("top-3 ties", 41, 8, 1, 3, 3, false);
        Routing prototypes = new Routing("2 prototypes ties", 29, 8, 2, 1, 3, false);
        Routing expertChoice = new Routing("expert choice", 23, 5, 1, 0, 0, true);
        Routing expertChoiceTies = new Routing("expert choice ties", 23, 5, 1, 0, 3, true);

        int fill = 77;
        c.add(exact("Dispatch.fillInts", "n=" + fill, r -> new Object[] {ints(r, fill, -50, 50)},
                (d, a) -> d.launch(Dispatch.grid(fill), Dispatch::fillInts, (int[]) a[0], -1, fill)));
        for (Routing k : List.of(top2, top3Ties, prototypes)) {
            int n = k.n();
            int e = k.e();
            c.add(exact("Router.topK", k.toString(), r -> new Object[] {ints(r, n * k.j(), -9, -1), k.probs(k.logits(r))},
                    (d, a) -> d.launch(Router.gridTokens(n), Router::topK, (int[]) a[0], f(a[1]), n, e, k.groups(), k.kPerGroup())));
            c.add(exact("Router.countChoices", k.toString(), r -> {
                Plan p = k.plan(k.probs(k.logits(r)));
                return new Object[] {ints(r, k.j() * e, -9, -1), p.choice()};
            }, (d, a) -> d.launch(Router.gridExperts(e), Router::countChoices, (int[]) a[0], (int[]) a[1], n, e, k.j())));
            // Other ranks' assignments ahead of this one's: the slots start past them, some past capacity.
            c.add(exact("Router.assignCapacity", k.toString(), r -> {
                Plan p = k.plan(k.probs(k.logits(r)));
                return new Object[] {ints(r, n * k.j(), -9, -1), ints(r, e, -9, -1), ints(r, e, -9, -1), p.choice(),
                    ints(r, k.j() * e, 0, k.capacity()), ints(r, e, 0, 2 * k.capacity())};
            }, (d, a) -> d.launch(Router.gridExperts(e), Router::assignCapacity, (int[]) a[0], (int[]) a[1], (int[]) a[2],
                    (int[]) a[3], (int[]) a[4], (int[]) a[5], n, e, k.j(), k.capacity())));
            c.add(exact("RouterLoss.auxLoss", k.toString(), r -> {
                float[] probs = k.probs(k.logits(r));
                return new Object[] {new float[1], probs, k.plan(probs).chosen()};
            }, (d, a) -> d.launch(RouterLoss.gridScalar(), RouterLoss::auxLoss, f(a[0]), f(a[1]), (int[]) a[2], n, e, k.groups(),
                    k.kPerGroup())));
            c.add(exact("RouterLoss.auxLossBackward", k.toString(), r -> {
                float[] probs = k.probs(k.logits(r));
                return new Object[] {floats(r, n * e, -1, 1), floats(r, 1, 0.5, 2), k.plan(probs).chosen()};
            }, (d, a) -> d.launch(RouterLoss.gridElements(n, e), RouterLoss::auxLossBackward, f(a[0]), f(a[1]), (int[]) a[2], n, e,
                    k.groups(), k.kPerGroup())));
        }
        for (Routing k : List.of(top2, top3Ties)) {
            int n = k.n();
            int e = k.e();
            c.add(exact("Router.biasScores", k.toString(), r -> new Object[] {new float[n * e], k.probs(k.logits(r)),
                    floats(r, e, -0.2, 0.2)},
                    (d, a) -> d.launch(Router.gridTokens(n), Router::biasScores, f(a[0]), f(a[1]), f(a[2]), n, e)));
            c.add(exact("Router.normalizeRows", k.toString(), r -> new Object[] {new float[n * e], floats(r, n * e, 0.01, 1)},
                    (d, a) -> d.launch(Router.gridTokens(n), Router::normalizeRows, f(a[0]), f(a[1]), n, e)));
            c.add(exact("Router.normalizeRowsBackward", k.toString(), r -> {
                float[] scores = floats(r, n * e, 0.01, 1);
                float[] out = new float[n * e];
                for (int t = 0; t < n; t++) {
                    float sum = 0f;
                    for (int x = 0; x < e; x++) {
                        sum += scores[t * e + x];
                    }
                    for (int x = 0; x < e; x++) {
                        out[t * e + x] = scores[t * e + x] / sum;
                    }
                }
                return new Object[] {floats(r, n * e, -1, 1), floats(r, n * e, -1, 1), out, scores};
            }, (d, a) -> d.launch(Router.gridTokens(n), Router::normalizeRowsBackward, f(a[0]), f(a[1]), f(a[2]), f(a[3]),
                    n, e)));
        }
        // Groups of 2 of 8 experts, the best 2 kept; ties (few logit levels) between groups and experts.
        for (int[] g : new int[][] {{23, 8, 4, 2, 0}, {19, 8, 4, 1, 3}, {17, 6, 3, 2, 2}}) {
            int n = g[0];
            int e = g[1];
            c.add(exact("Router.maskGroups", "N=" + n + " E=" + e + " groups=" + g[2] + " top=" + g[3] + " levels=" + g[4],
                    r -> new Object[] {new float[n * e], RoutingInputs.softmax(RoutingInputs.logits(r, n, e, g[4]), e)},
                    (d, a) -> d.launch(Router.gridTokenGroups(n, g[2]), Router::maskGroups, f(a[0]), f(a[1]), n, e, g[2],
                            g[3])));
        }
        // Sequences of 6 tokens: 36 tokens, 6 sequences.
        Routing sequences = new Routing("top-2 of sequences", 36, 6, 1, 2, 0, false);
        Routing protoSequences = new Routing("2 prototypes of sequences", 36, 8, 2, 1, 3, false);
        for (Routing q : List.of(sequences, protoSequences)) {
            int n = q.n();
            int e = q.e();
            c.add(exact("RouterLoss.auxLossSequence", q + " T=6", r -> {
                float[] probs = q.probs(q.logits(r));
                return new Object[] {new float[1], probs, q.plan(probs).choice()};
            }, (d, a) -> d.launch(RouterLoss.gridScalar(), RouterLoss::auxLossSequence, f(a[0]), f(a[1]), (int[]) a[2], n, e,
                    q.groups(), q.kPerGroup(), 6)));
            c.add(exact("RouterLoss.auxLossSequenceBackward", q + " T=6", r -> {
                float[] probs = q.probs(q.logits(r));
                return new Object[] {floats(r, n * e, -1, 1), floats(r, 1, 0.5, 2), q.plan(probs).choice()};
            }, (d, a) -> d.launch(RouterLoss.gridElements(n, e), RouterLoss::auxLossSequenceBackward, f(a[0]), f(a[1]),
                    (int[]) a[2], n, e, q.groups(), q.kPerGroup(), 6)));
        }
        for (Routing x : List.of(expertChoice, expertChoiceTies)) {
            int n = x.n();
            int e = x.e();
            c.add(exact("Router.expertChoice", x.toString(), r -> new Object[] {ints(r, n * e, -9, -1), ints(r, n * e, -9, -1),
                            x.probs(x.logits(r))},
                    (d, a) -> d.launch(Router.gridTokenExperts(n, e), Router::expertChoice, (int[]) a[0], (int[]) a[1], f(a[2]), n, e,
                            x.capacity())));
        }
        for (Routing p : List.of(top2, prototypes, expertChoice)) {
            int n = p.n();
            int e = p.e();
            int j = p.j();
            int cap = p.capacity();
            int dim = 13;
            int slots = e * cap;
            String s = p + " D=" + dim;
            c.add(exact("Dispatch.invertSlots", s, r -> {
                Plan plan = p.plan(p.probs(p.logits(r)));
                int[] slotAssign = new int[slots];
                java.util.Arrays.fill(slotAssign, -1);
                return new Object[] {slotAssign, plan.choice(), plan.slot()};
            }, (d, a) -> d.launch(Dispatch.grid(n * j), Dispatch::invertSlots, (int[]) a[0], (int[]) a[1], (int[]) a[2], n, j, cap)));
            c.add(exact("Dispatch.dispatch", s, r -> {
                Plan plan = p.plan(p.probs(p.logits(r)));
                return new Object[] {floats(r, slots * dim, -1, 1), floats(r, n * dim, -2, 2), plan.slotAssign()};
            }, (d, a) -> d.launch(Dispatch.grid(slots * dim), Dispatch::dispatch, f(a[0]), f(a[1]), (int[]) a[2], slots, j, dim)));
            c.add(exact("Dispatch.dispatchBackward", s, r -> {
                Plan plan = p.plan(p.probs(p.logits(r)));
                return new Object[] {floats(r, n * dim, -1, 1), floats(r, slots * dim, -1, 1), plan.choice(), plan.slot()};
            }, (d, a) -> d.launch(Dispatch.grid(n * dim), Dispatch::dispatchBackward, f(a[0]), f(a[1]), (int[]) a[2], (int[]) a[3],
                    n, j, cap, dim)));
            c.add(exact("Dispatch.combine", s, r -> {
                float[] probs = p.probs(p.logits(r));
                Plan plan = p.plan(probs);
                return new Object[] {floats(r, n * dim, -1, 1), floats(r, slots * dim, -2, 2),
                    RoutingInputs.combineWeights(probs, plan, 0), plan.choice(), plan.slot()};
            }, (d, a) -> d.launch(Dispatch.grid(n * dim), Dispatch::combine, f(a[0]), f(a[1]), f(a[2]), (int[]) a[3], (int[]) a[4],
                    n, j, cap, dim)));
            c.add(exact("Dispatch.combineBackwardOutput", s, r -> {
                float[] probs = p.probs(p.logits(r));
                Plan plan = p.plan(probs);
                return new Object[] {floats(r, slots * dim, -1, 1), floats(r, n * dim, -1, 1),
                    RoutingInputs.combineWeights(probs, plan, 0), plan.slotAssign()};
            }, (d, a) -> d.launch(Dispatch.grid(slots * dim), Dispatch::combineBackwardOutput, f(a[0]), f(a[1]), f(a[2]),
                    (int[]) a[3], slots, j, dim)));
            c.add(exact("Dispatch.combineBackwardWeights", s, r -> {
                Plan plan = p.plan(p.probs(p.logits(r)));
                return new Object[] {floats(r, n * j, -1, 1), floats(r, n * dim, -1, 1), floats(r, slots * dim, -2, 2),
                    plan.choice(), plan.slot()};
            }, (d, a) -> d.launch(Dispatch.grid(n * j), Dispatch::combineBackwardWeights, f(a[0]), f(a[1]), f(a[2]), (int[]) a[3],
                    (int[]) a[4], n, j, cap, dim)));
            for (int renormalize : p.expertChoice() ? new int[] {0} : new int[] {0, 1, 2}) {
                String w = p + new String[] {"", " over kept", " over chosen"}[renormalize];
                c.add(exact("Router.combineWeights", w, r -> {
                    float[] probs = p.probs(p.logits(r));
                    Plan plan = p.plan(probs);
                    return new Object[] {floats(r, n * j, -1, 1), probs, plan.choice(), plan.slot()};
                }, (d, a) -> d.launch(Router.gridTokens(n), Router::combineWeights, f(a[0]), f(a[1]), (int[]) a[2], (int[]) a[3], n, e,
                        j, renormalize)));
                c.add(exact("Router.combineWeightsBackward", w, r -> {
                    float[] probs = p.probs(p.logits(r));
                    Plan plan = p.plan(probs);
                    return new Object[] {floats(r, n * e, -1, 1), floats(r, n * j, -1, 1),
                        RoutingInputs.combineWeights(probs, plan, renormalize), probs, plan.choice(), plan.slot()};
                }, (d, a) -> d.launch(Router.gridTokens(n), Router::combineWeightsBackward, f(a[0]), f(a[1]), f(a[2]), f(a[3]),
                        (int[]) a[4], (int[]) a[5], n, e, j, renormalize)));
            }
        }
        for (Routing z : List.of(top2, prototypes)) {
            int n = z.n();
            int e = z.e();
            int groups = z.groups();
            String s = "N=" + n + " E=" + e + " groups=" + groups;
            c.add(approx("RouterLoss.logSumExp", s, 4, 2, r -> new Object[] {floats(r, n * groups, -1, 1), floats(r, n * e, -4, 4)},
                    (d, a) -> d.launch(RouterLoss.gridTokenGroups(n, groups), RouterLoss::logSumExp, f(a[0]), f(a[1]), n, e, groups)));
            c.add(exact("RouterLoss.zLoss", s, r -> new Object[] {new float[1], floats(r, n * groups, -1, 4)},
                    (d, a) -> d.launch(RouterLoss.gridScalar(), RouterLoss::zLoss, f(a[0]), f(a[1]), n * groups)));
            // The accumulator starts at 0, so the ulps are counted at the scale of the gradient itself.
            c.add(approx("RouterLoss.zLossBackward", s, 4, 2, r -> {
                float[] logits = floats(r, n * e, -4, 4);
                return new Object[] {new float[n * e], floats(r, 1, 0.5, 2), logits, RoutingInputs.logSumExp(logits, e / groups)};
            }, (d, a) -> d.launch(RouterLoss.gridTokenGroups(n, groups), RouterLoss::zLossBackward, f(a[0]), f(a[1]), f(a[2]), f(a[3]),
                    n, e, groups)));
        }
    }

    /** Kernels with transcendental functions; the others translate the same in both modes. */
    public static Stream<Case> transcendentalCases() {
        return cases().filter(c -> c.ulps() > 0);
    }

    /**
     * Runs {@code c} on {@code jvm} and on {@code device} (translated in {@code mode}) and fails
     * unless every output agrees within {@code ulps} (0: bit for bit), naming the worst element.
     */
    public static void check(Case c, Device jvm, Device device, MathMode mode, double ulps) {
        Object[] reference = inputsOf(c);
        Object[] actual = copy(reference);
        Object[] original = copy(reference);
        c.run().accept(jvm, reference);
        c.run().accept(device, actual);
        for (int i = 0; i < actual.length; i++) {
            device.copyToHost(actual[i]);
            device.release(actual[i]);
        }
        for (int i = 0; i < actual.length; i++) {
            if (reference[i] instanceof int[] r) {
                assertEquals(java.util.Arrays.toString(r), java.util.Arrays.toString((int[]) actual[i]), c + " int array #" + i);
                continue;
            }
            float[] r = (float[]) reference[i];
            float[] a = (float[]) actual[i];
            float scale = 0;
            for (float x : r) {
                scale = Math.max(scale, Math.abs(x));
            }
            double worst = 0;
            int worstAt = -1;
            for (int j = 0; j < r.length; j++) {
                if (Float.floatToIntBits(r[j]) == Float.floatToIntBits(a[j])) {
                    continue;
                }
                double err = Math.abs((double) a[j] - r[j]) / Math.ulp(scale);
                if (!(err <= worst)) {
                    worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                    worstAt = j;
                }
            }
            if (worstAt >= 0 && (ulps == 0 || worst > ulps)) {
                fail(String.format("%s (%s math): array #%d differs at index %d: jvm %s (bits %08x), %s %s (bits %08x),"
                                + " %.2f ulps of the array's scale %s; allowed %s (input was %s)", c, mode, i,
                        worstAt, r[worstAt], Float.floatToRawIntBits(r[worstAt]), device.name(), a[worstAt],
                        Float.floatToRawIntBits(a[worstAt]), worst, scale, ulps == 0 ? "none (bit for bit)" : ulps + " ulps",
                        ((float[]) original[i])[worstAt]));
            }
        }
    }

    /** The seeded inputs of a case. */
    public static Object[] inputsOf(Case c) {
        return c.inputs().apply(new SplittableRandom(c.toString().hashCode()));
    }

    private static Object[] copy(Object[] arrays) {
        Object[] out = new Object[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            Object a = arrays[i];
            Object c = Array.newInstance(a.getClass().getComponentType(), Array.getLength(a));
            System.arraycopy(a, 0, c, 0, Array.getLength(a));
            out[i] = c;
        }
        return out;
    }
}
