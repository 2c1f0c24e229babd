package org.moe4j.train;

import java.util.Collection;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.lib.Elementwise;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Reductions;

/** Global gradient-norm clipping, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientClipper {
    private GradientClipper() {
    }

    /**
     * Scales all gradients by {@code maxNorm / norm} when their global L2 norm exceeds
     * {@code maxNorm} (0 disables clipping).
     *
     * @return the global norm before clipping
     */
    public static double clip(Device device, Collection<Tensor> parameters, double maxNorm) {
        float[][] grads = parameters.stream().map(Tensor::grad).toArray(float[][]::new);
        double norm = Math.sqrt(Reductions.sumOfSquares(device, grads));
        scale(device, parameters, norm, maxNorm);
        return norm;
    }

    /** Scales all gradients by {@code maxNorm / norm} when {@code norm}, their global norm, exceeds {@code maxNorm} > 0. */
    public static void scale(Device device, Collection<Tensor> parameters, double norm, double maxNorm) {
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (Tensor p : parameters) {
                float[] grad = p.grad();
                device.launch(Grid.of(grad.length), Elementwise::scale, grad, scale, grad.length);
            }
        }
    }
}
