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
     * Combine weights {@code (N,J)}: the score of each kept assignment, 0 for a dropped one; with
     * {@code normalize} ({@code Router.WEIGHTS_*}) divided by the sum over the token's kept or
     * chosen assignments.
     *
     * @param probs (N,E); not modified
     */
    public static Tensor combineWeights(Tape tape, Tensor probs, DispatchPlan plan, int normalize) {
        int n = plan.tokens();
        int e = plan.experts();
        int j = plan.perToken();
        probs.requireShape("router probabilities", n, e);
        boolean recorded = tape.needsGrad(probs);
        Tensor weights = tape.output(recorded, n, j);
        Device device = tape.device();
        device.launch(Router.gridTokens(n), Router::combineWeights, weights.data(), probs.data(), plan.choice(),
                plan.slot(), n, e, j, normalize);
        if (recorded) {
            tape.record(() -> device.launch(Router.gridTokens(n), Router::combineWeightsBackward, probs.grad(),
                    weights.grad(), weights.data(), probs.data(), plan.choice(), plan.slot(), n, e, j, normalize));
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
     * The sequence-wise load-balancing loss, a scalar: the mean over the {@code N/T} sequences of
     * {@link #balanceLoss} within each (see {@link RouterLoss#auxLossSequence}).
     *
     * @param probs (N,E), N a multiple of {@code seqLen}; not modified
     */
    public static Tensor sequenceBalanceLoss(Tape tape, Tensor probs, DispatchPlan plan, int groups,
                                             int choicesPerGroup, int seqLen) {
        int n = plan.tokens();
        int e = plan.experts();
        probs.requireShape("router probabilities", n, e);
        if (n % seqLen != 0) {
            throw new IllegalArgumentException(n + " tokens are not whole sequences of " + seqLen);
        }
        boolean recorded = tape.needsGrad(probs);
        Tensor aux = tape.output(recorded, 1);
        Device device = tape.device();
        device.launch(RouterLoss.gridScalar(), RouterLoss::auxLossSequence, aux.data(), probs.data(), plan.choice(), n,
                e, groups, choicesPerGroup, seqLen);
        if (recorded) {
            tape.record(() -> device.launch(RouterLoss.gridElements(n, e), RouterLoss::auxLossSequenceBackward,
                    probs.grad(), aux.grad(), plan.choice(), n, e, groups, choicesPerGroup, seqLen));
        }
        return aux;
    }

    /**
     * Each token's scores divided by their sum, {@code (N,E)}: the distribution sigmoid scores give
     * the load-balancing loss and the statistics.
     *
     * @param scores (N,E), positive; not modified
     */
    public static Tensor normalizeRows(Tape tape, Tensor scores) {
        int n = scores.dim(0);
        int e = scores.dim(1);
        boolean recorded = tape.needsGrad(scores);
        Tensor out = tape.output(recorded, n, e);
        Device device = tape.device();
        device.launch(Router.gridTokens(n), Router::normalizeRows, out.data(), scores.data(), n, e);
        if (recorded) {
            tape.record(() -> device.launch(Router.gridTokens(n), Router::normalizeRowsBackward, scores.grad(),
                    out.grad(), out.data(), scores.data(), n, e));
        }
        return out;
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
