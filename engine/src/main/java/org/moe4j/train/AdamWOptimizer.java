package org.moe4j.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.Grid;
import org.moe4j.kernels.lib.AdamW;
import org.moe4j.tensor.Tensor;

/**
 * AdamW as in {@code torch.optim.AdamW}: decoupled weight decay, bias-corrected moments. Weight
 * decay applies to parameters of rank 2 and more (matrices and embeddings), not to gains and biases.
 */
public final class AdamWOptimizer {
    private final Device device;
    private final Map<String, Tensor> parameters;
    private final Map<String, float[]> firstMoments = new LinkedHashMap<>();
    private final Map<String, float[]> secondMoments = new LinkedHashMap<>();
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float weightDecay;
    private int stepsTaken;

    public AdamWOptimizer(Device device, Map<String, Tensor> parameters, TrainConfig config) {
        this.device = device;
        this.parameters = parameters;
        this.beta1 = (float) config.beta1();
        this.beta2 = (float) config.beta2();
        this.epsilon = (float) config.epsilon();
        this.weightDecay = (float) config.weightDecay();
        parameters.forEach((name, p) -> {
            firstMoments.put(name, device.allocateFloats(p.size()));
            secondMoments.put(name, device.allocateFloats(p.size()));
        });
    }

    /** Applies one update with learning rate {@code lr} from the parameters' current gradients. */
    public void step(double lr) {
        stepsTaken++;
        parameters.forEach((name, p) -> update(p.data(), p.grad(), firstMoments.get(name), secondMoments.get(name),
                p.rank() >= 2, lr, stepsTaken));
    }

    /**
     * The AdamW update of {@code param} at step {@code t} (counted from 1), with this optimizer's
     * betas, epsilon and, when {@code decayed}, its weight decay: what {@link #step} does to each
     * parameter, and a sharded optimizer to each slice it owns.
     *
     * @param param modified; grad not modified; m, v modified: the moments; all of one length
     */
    void update(float[] param, float[] grad, float[] m, float[] v, boolean decayed, double lr, int t) {
        float correction1 = (float) (1 - Math.pow(beta1, t));
        float correction2 = (float) (1 - Math.pow(beta2, t));
        device.launch(Grid.of(param.length), AdamW::update, param, grad, m, v, (float) lr, beta1, beta2, epsilon,
                decayed ? weightDecay : 0f, correction1, correction2, param.length);
    }

    public void zeroGrad() {
        parameters.values().forEach(Tensor::zeroGrad);
    }

    /** Steps taken so far (the bias correction depends on it). */
    public int stepsTaken() {
        return stepsTaken;
    }

    /** First moments by parameter name; <em>modified</em> by {@link #step}, and by checkpoint loading. */
    public Map<String, float[]> firstMoments() {
        return firstMoments;
    }

    /** Second moments by parameter name; see {@link #firstMoments()}. */
    public Map<String, float[]> secondMoments() {
        return secondMoments;
    }

    /** Restores the step count from a checkpoint. */
    public void restoreStepsTaken(int steps) {
        this.stepsTaken = steps;
    }
}
