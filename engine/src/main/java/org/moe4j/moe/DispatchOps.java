package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Dispatch;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Tape ops that move tokens into the {@code (E,C,D)} expert buffer and combine the experts' outputs back. */
public final class DispatchOps {
    private DispatchOps() {
    }

    /**
     * Scatters the kept assignments' tokens into {@code (E,C,D)}; unused slots are zero.
     *
     * @param x (N,D); not modified
     */
    public static Tensor dispatch(Tape tape, Tensor x, DispatchPlan plan) {
        int n = plan.tokens();
        int d = x.dim(-1);
        x.requireShape("tokens", n, d);
        int e = plan.experts();
        int c = plan.capacity();
        int j = plan.perToken();
        boolean recorded = tape.needsGrad(x);
        Tensor buf = tape.output(recorded, e, c, d);
        Device device = tape.device();
        device.launch(Dispatch.grid(e * c * d), Dispatch::dispatch, buf.data(), x.data(), plan.slotAssign(), e * c, j,
                d);
        if (recorded) {
            tape.record(() -> device.launch(Dispatch.grid(n * d), Dispatch::dispatchBackward, x.grad(), buf.grad(),
                    plan.choice(), plan.slot(), n, j, c, d));
        }
        return buf;
    }

    /**
     * {@code y[t] = Σ_j w[t,j]·out[choice, slot]} over the token's kept assignments, {@code (N,D)}.
     *
     * @param out     (E,C,D) the experts' outputs; not modified
     * @param weights (N,J); not modified
     */
    public static Tensor combine(Tape tape, Tensor out, Tensor weights, DispatchPlan plan) {
        int n = plan.tokens();
        int e = plan.experts();
        int c = plan.capacity();
        int j = plan.perToken();
        int d = out.dim(-1);
        out.requireShape("expert output", e, c, d);
        weights.requireShape("combine weights", n, j);
        boolean recorded = tape.needsGrad(out, weights);
        Tensor y = tape.output(recorded, n, d);
        Device device = tape.device();
        device.launch(Dispatch.grid(n * d), Dispatch::combine, y.data(), out.data(), weights.data(), plan.choice(),
                plan.slot(), n, j, c, d);
        if (recorded) {
            tape.record(() -> {
                if (out.requiresGrad()) {
                    device.launch(Dispatch.grid(e * c * d), Dispatch::combineBackwardOutput, out.grad(), y.grad(),
                            weights.data(), plan.slotAssign(), e * c, j, d);
                }
                if (weights.requiresGrad()) {
                    device.launch(Dispatch.grid(n * j), Dispatch::combineBackwardWeights, weights.grad(), y.grad(),
                            out.data(), plan.choice(), plan.slot(), n, j, c, d);
                }
            });
        }
        return y;
    }
}
