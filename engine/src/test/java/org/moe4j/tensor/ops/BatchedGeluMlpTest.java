package org.moe4j.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.ForwardingDevice;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.KernelMethod;
import org.moe4j.kernels.Launch;
import org.moe4j.kernels.lib.ElementwiseSimd;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.kernels.lib.MoeSimd;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.GradCheck;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * The fused GELU MLP: gradients by central differences, and output and gradients equal to the
 * unfused ops ({@link BatchedLinear}, {@link Activations#gelu}, {@link BatchedLinear}) bit for bit,
 * on the portable kernels and on the overrides (F a multiple of the vector length and E·R·F small
 * enough for one range, so that both sides take the vector GELU for every element).
 */
class BatchedGeluMlpTest {
    private static final JvmDevice PORTABLE = new JvmDevice(2, true);
    private static final JvmDevice SIMD = new JvmDevice(2, false);

    static {
        GemmSimd.registerOn(SIMD);
        MoeSimd.registerOn(SIMD);
        ElementwiseSimd.registerOn(SIMD);
    }

    @AfterAll
    static void close() {
        PORTABLE.close();
        SIMD.close();
    }

    /** (E, R, D, F, O): E·R·F a multiple of 16, rows and widths not multiples of the blocks. */
    private static final int[] SHAPE = {2, 5, 7, 16, 6};

    @Test
    void gradientsOfInputWeightsAndBiases() {
        for (JvmDevice device : List.of(PORTABLE, SIMD)) {
            Mlp m = new Mlp(device, 41, 3, 4, 5, 6, 3);
            new GradCheck(device).check("batched GELU MLP", m::fused, m.x, m.w1, m.b1, m.w2, m.b2);
        }
    }

    @Test
    void fusedEqualsUnfusedBitForBit() {
        for (JvmDevice device : List.of(PORTABLE, SIMD)) {
            Mlp fused = new Mlp(device, 42, SHAPE);
            Mlp unfused = new Mlp(device, 42, SHAPE);
            float[] expected = run(unfused, unfused::unfused);
            float[] actual = run(fused, fused::fused);
            assertArrayEquals(expected, actual, device + " out");
            for (int t = 0; t < 5; t++) {
                Tensor e = unfused.parameters().get(t);
                Tensor a = fused.parameters().get(t);
                assertArrayEquals(e.grad(), a.grad(), device + " gradient of " + e);
            }
        }
    }

    /** A device whose plain GEMMs are faster (cuBLAS) gets the unfused kernels, and the same bits. */
    @Test
    void aDeviceThatDoesNotFuseEpiloguesRunsThePlainGemmsAndTheGeluPass() {
        Set<String> kernels = new TreeSet<>();
        ForwardingDevice plain = new ForwardingDevice(SIMD) {
            @Override
            public boolean fusesGemmEpilogues() {
                return false;
            }

            @Override
            public void launch(Launch launch) {
                kernels.add(KernelMethod.of(launch.kernel()).displayName());
                super.launch(launch);
            }
        };
        Mlp expected = new Mlp(SIMD, 45, SHAPE);
        Mlp actual = new Mlp(SIMD, 45, SHAPE);
        float[] reference = run(expected, expected::unfused);
        Tape tape = Tape.training(plain);
        Tensor out = BatchedGeluMlp.forward(tape, actual.x, actual.w1, actual.b1, actual.w2, actual.b2);
        tape.backward(out, seed(out.size()));
        assertArrayEquals(reference, out.toHost().data());
        assertArrayEquals(expected.w1.grad(), actual.w1.grad());
        assertTrue(kernels.stream().noneMatch(k -> k.contains("Gelu")) && kernels.contains("BatchedGemm.matmul"),
                kernels.toString());
    }

    @Test
    void firstLayerWithoutBiasIsRejected() {
        Mlp m = new Mlp(SIMD, 43, SHAPE);
        assertThrows(IllegalArgumentException.class,
                () -> BatchedGeluMlp.forward(Tape.inference(SIMD), m.x, m.w1, null, m.w2, m.b2));
    }

    /** Forward and backward of {@code op} from a fixed random output gradient; the output. */
    private static float[] run(Mlp m, Function<Tape, Tensor> op) {
        Tape tape = Tape.training(m.device);
        Tensor out = op.apply(tape);
        tape.backward(out, seed(out.size()));
        return out.toHost().data();
    }

    /** A fixed random output gradient. */
    private static float[] seed(int size) {
        SplitMix64 random = new SplitMix64(44);
        float[] seed = new float[size];
        for (int i = 0; i < size; i++) {
            seed[i] = random.nextFloat() * 2 - 1;
        }
        return seed;
    }

    private static final class Mlp {
        final JvmDevice device;
        final Tensor x;
        final Tensor w1;
        final Tensor b1;
        final Tensor w2;
        final Tensor b2;

        Mlp(JvmDevice device, long seed, int... s) {
            this.device = device;
            int e = s[0];
            x = RandomTensors.uniform(device, seed, -1f, 1f, e, s[1], s[2]);
            w1 = RandomTensors.uniform(device, seed + 1, -1f, 1f, e, s[2], s[3]);
            b1 = RandomTensors.uniform(device, seed + 2, -1f, 1f, e, s[3]);
            w2 = RandomTensors.uniform(device, seed + 3, -1f, 1f, e, s[3], s[4]);
            b2 = RandomTensors.uniform(device, seed + 4, -1f, 1f, e, s[4]);
        }

        List<Tensor> parameters() {
            return List.of(x, w1, b1, w2, b2);
        }

        Tensor fused(Tape tape) {
            return BatchedGeluMlp.forward(tape, x, w1, b1, w2, b2);
        }

        Tensor unfused(Tape tape) {
            Tensor hidden = Activations.gelu(tape, BatchedLinear.forward(tape, x, w1, b1));
            return BatchedLinear.forward(tape, hidden, w2, b2);
        }
    }
}
