package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Router;
import org.moe4j.kernels.lib.RouterLoss;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * Tape ops on the router side: combine weights from the gate probabilities, the load-balancing loss
 * and the z-loss. The routing decision itself ({@link DispatchPlan}) is not differentiable; these
 * ops carry gradients into the probabilities and logits.
 */
public final class GateOps {
    private GateOps() {
    }

    /**
     * Combine weights {@code (N,J)}: the probability of each kept assignment, 0 for a dropped one,
     * optionally renormalised over the token's kept assignments.
     *
     * @param probs (N,E); not modified
     */
    public static Tensor combineWeights(Tape tape, Tensor probs, DispatchPlan plan, boolean renormalize) {
        int n = plan.tokens();
        int e = plan.experts();
        int j = plan.perToken();
        probs.requireShape("router probabilities", n, e);
        int renorm = renormalize ? 1 : 0;
        boolean recorded = tape.needsGrad(probs);
        Tensor weights = tape.output(recorded, n, j);
        Device device = tape.device();
        device.launch(Router.gridTokens(n), Router::combineWeights, weights.data(), probs.data(), plan.choice(),
                plan.slot(), n, e, j, renorm);
        if (recorded) {
            tape.record(() -> device.launch(Router.gridTokens(n), Router::combineWeightsBackward, probs.grad(),
                    weights.grad(), weights.data(), probs.data(), plan.choice(), plan.slot(), n, e, j, renorm));
        }
        return weights;
    }

    /**
     * The load-balancing loss, a scalar: mean over the {@code groups} groups of
     * {@code G·Σ_x f_x·P_x} (see {@link RouterLoss}). Its gradient flows through {@code P} only.
     *
     * @param probs (N,E); not modified
     */
    public static Tensor balanceLoss(Tape tape, Tensor probs, DispatchPlan plan, int groups, int choicesPerGroup) {
        int n = plan.tokens();
        int e = plan.experts();
        probs.requireShape("router probabilities", n, e);
        boolean recorded = tape.needsGrad(probs);
        Tensor aux = tape.output(recorded, 1);
        Device device = tape.device();
        device.launch(RouterLoss.gridScalar(), RouterLoss::auxLoss, aux.data(), probs.data(), plan.chosen(), n, e,
                groups, choicesPerGroup);
        if (recorded) {
            tape.record(() -> device.launch(RouterLoss.gridElements(n, e), RouterLoss::auxLossBackward, probs.grad(),
                    aux.grad(), plan.chosen(), n, e, groups, choicesPerGroup));
        }
        return aux;
    }

    /**
     * The router z-loss, a scalar: the mean over tokens and groups of the squared log-sum-exp of the
     * group's logits.
     *
     * @param logits (N,E); not modified
     */
    public static Tensor zLoss(Tape tape, Tensor logits, int groups) {
        int n = logits.dim(0);
        int e = logits.dim(1);
        boolean recorded = tape.needsGrad(logits);
        Tensor z = tape.output(recorded, 1);
        Device device = tape.device();
        float[] lse = device.allocateFloats(n * groups);
        device.launch(RouterLoss.gridTokenGroups(n, groups), RouterLoss::logSumExp, lse, logits.data(), n, e, groups);
        device.launch(RouterLoss.gridScalar(), RouterLoss::zLoss, z.data(), lse, n * groups);
        if (recorded) {
            tape.record(() -> device.launch(RouterLoss.gridTokenGroups(n, groups), RouterLoss::zLossBackward,
                    logits.grad(), z.grad(), logits.data(), lse, n, e, groups));
        }
        return z;
    }
}
