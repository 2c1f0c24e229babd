package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.tensor.Tensor;

class GradientClipperTest {
    private final JvmDevice device = new JvmDevice(1, false);

    private Tensor withGrad(float... grad) {
        Tensor t = Tensor.zeros(device, true, grad.length);
        System.arraycopy(grad, 0, t.grad(), 0, grad.length);
        return t;
    }

    @Test
    void scalesToTheMaximumNormWhenAbove() {
        Tensor a = withGrad(3f, 0f);
        Tensor b = withGrad(0f, 4f, 0f);
        double norm = GradientClipper.clip(device, List.of(a, b), 1.0);
        assertEquals(5.0, norm, 1e-6);
        assertArrayEquals(new float[] {0.6f, 0f}, a.grad(), 1e-6f);
        assertArrayEquals(new float[] {0f, 0.8f, 0f}, b.grad(), 1e-6f);
    }

    @Test
    void leavesSmallGradientsAndDisabledClippingAlone() {
        Tensor a = withGrad(0.3f, 0.4f);
        assertEquals(0.5, GradientClipper.clip(device, List.of(a), 1.0), 1e-6);
        assertArrayEquals(new float[] {0.3f, 0.4f}, a.grad());
        Tensor b = withGrad(30f, 40f);
        assertEquals(50.0, GradientClipper.clip(device, List.of(b), 0), 1e-5);
        assertArrayEquals(new float[] {30f, 40f}, b.grad());
    }
}
