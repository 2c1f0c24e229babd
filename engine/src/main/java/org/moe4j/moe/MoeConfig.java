package org.moe4j.moe;

import java.util.List;
import org.moe4j.nn.ConfigCheck;

/**
 * The Mixture-of-Experts part of a model ({@code model.moe} in configs; null means a dense model).
 * JSON and {@code --set} use the snake_case names ({@code capacity_factor}, {@code moe.experts}).
 * See {@code docs/moe.md} for the exact definition.
 *
 * @param router             {@code topk}, {@code prototype} (k top-1 expert prototyping), {@code switch}
 *                           (top-1; {@code k} is ignored) or {@code expert_choice} ({@code k} is ignored)
 * @param experts            experts per MoE layer (E)
 * @param k                  experts per token: top-k's k, or the number of prototypes
 * @param capacityFactor     expert capacity relative to a perfectly balanced load, in training
 * @param evalCapacityFactor the same in evaluation and sampling
 * @param renormalize        top-k only: combine weights divided by the sum over the kept experts
 * @param auxLossCoef        weight of the load-balancing loss in the objective
 * @param zLossCoef          weight of the router z-loss
 * @param jitter             multiplicative noise {@code U(1-jitter, 1+jitter)} on the router input in
 *                           training; 0 turns it off
 * @param expert             {@code gelu}, {@code swiglu}, or the fully-qualified name of a class
 *                           implementing {@link Expert}
 * @param hidden             hidden width F of each expert
 * @param every              an MoE layer in every n-th block (blocks n-1, 2n-1, ...), dense MLPs in the
 *                           others; 1 makes every block MoE
 */
public record MoeConfig(String router, int experts, int k, double capacityFactor, double evalCapacityFactor,
                        boolean renormalize, double auxLossCoef, double zLossCoef, double jitter, String expert,
                        int hidden, int every) {

    /** Router names {@code moe.router} accepts. */
    public static final List<String> ROUTERS = List.of("topk", "prototype", "switch", "expert_choice");

    /**
     * The default: 8 GELU experts of hidden width 256 in 2 prototypes (2 top-1), so a token's active
     * feed-forward compute equals a dense MLP of hidden width 512.
     */
    public static final MoeConfig DEFAULT = new MoeConfig("prototype", 8, 2, 1.25, 2.0, false, 0.01, 0.001, 0.0,
            "gelu", 256, 1);

    public MoeConfig {
        if (router == null || !ROUTERS.contains(router)) {
            throw new IllegalArgumentException("moe.router=" + router + " is not allowed: must be one of " + ROUTERS);
        }
        ConfigCheck.atLeast("moe.experts", experts, 1);
        ConfigCheck.atLeast("moe.k", k, 1);
        if ((router.equals("topk") || router.equals("prototype")) && k > experts) {
            throw new IllegalArgumentException("moe.k=" + k + " exceeds moe.experts=" + experts
                    + " (a token cannot choose more experts than there are)");
        }
        if (router.equals("prototype") && experts % k != 0) {
            throw new IllegalArgumentException("moe.experts=" + experts + " is not divisible by moe.k=" + k
                    + " (prototype routing splits experts into k groups)");
        }
        ConfigCheck.positive("moe.capacity_factor", capacityFactor);
        ConfigCheck.positive("moe.eval_capacity_factor", evalCapacityFactor);
        ConfigCheck.inRange("moe.aux_loss_coef", auxLossCoef, 0, Double.MAX_VALUE);
        ConfigCheck.inRange("moe.z_loss_coef", zLossCoef, 0, Double.MAX_VALUE);
        if (!(jitter >= 0 && jitter < 1)) {
            throw new IllegalArgumentException("moe.jitter=" + jitter + " is out of range: must be in [0, 1)");
        }
        Experts.check(expert);
        ConfigCheck.atLeast("moe.hidden", hidden, 1);
        ConfigCheck.atLeast("moe.every", every, 1);
    }

    /** Whether block {@code index} (0-based) of a model has an MoE layer rather than a dense MLP. */
    public boolean isMoeBlock(int index) {
        return (index + 1) % every == 0;
    }

    /** Experts each token's output is computed from, on average: k, 1 for Switch, the capacity factor for expert choice. */
    public double activeExpertsPerToken() {
        return switch (router) {
            case "switch" -> 1;
            case "expert_choice" -> Math.min(experts, capacityFactor);
            default -> k;
        };
    }
}
