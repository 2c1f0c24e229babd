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
 * @param capacityFactor     expert capacity relative to a perfectly balanced load, in training; 0 is
 *                           dropless (the capacity is the step's largest expert load)
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
 * @param sharedExperts      dense experts every token passes through, added to the routed output
 *                           (DeepSeekMoE); 0 for none
 * @param gate               {@code softmax}, or {@code sigmoid}: per-expert sigmoid scores, combine
 *                           weights normalised over the token's chosen experts (DeepSeek-V3)
 * @param balance            {@code aux_loss}, or {@code bias}: a per-expert bias on the selection
 *                           scores, moved after every step toward even loads (auxiliary-loss-free)
 * @param biasUpdateRate     γ of bias balancing: each step {@code b += γ·sign(mean load − load)}
 * @param auxScope           {@code batch}: the load-balancing loss over the global batch;
 *                           {@code sequence}: over each sequence, averaged
 * @param routeGroups        experts in this many groups of consecutive experts; 1: no groups
 * @param topGroups          each token's experts come from its best {@code topGroups} groups
 */
public record MoeConfig(String router, int experts, int k, double capacityFactor, double evalCapacityFactor,
                        boolean renormalize, double auxLossCoef, double zLossCoef, double jitter, String expert,
                        int hidden, int every, int sharedExperts, String gate, String balance, double biasUpdateRate,
                        String auxScope, int routeGroups, int topGroups) {

    /** Router names {@code moe.router} accepts. */
    public static final List<String> ROUTERS = List.of("topk", "prototype", "switch", "expert_choice");
    /** Gate names {@code moe.gate} accepts. */
    public static final List<String> GATES = List.of("softmax", "sigmoid");
    /** Balancing names {@code moe.balance} accepts. */
    public static final List<String> BALANCES = List.of("aux_loss", "bias");
    /** Scopes {@code moe.aux_scope} accepts. */
    public static final List<String> AUX_SCOPES = List.of("batch", "sequence");
    /** The default γ of bias balancing (DeepSeek-V3 trains with 0.001). */
    public static final double DEFAULT_BIAS_UPDATE_RATE = 0.001;

    /**
     * The default: 8 GELU experts of hidden width 256 in 2 prototypes (2 top-1), so a token's active
     * feed-forward compute equals a dense MLP of hidden width 512.
     */
    public static final MoeConfig DEFAULT = new MoeConfig("prototype", 8, 2, 1.25, 2.0, false, 0.01, 0.001, 0.0,
            "gelu", 256, 1);

    public MoeConfig {
        oneOf("moe.router", router, ROUTERS);
        oneOf("moe.gate", gate, GATES);
        oneOf("moe.balance", balance, BALANCES);
        oneOf("moe.aux_scope", auxScope, AUX_SCOPES);
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
        boolean expertChoice = router.equals("expert_choice");
        capacity("moe.capacity_factor", capacityFactor, expertChoice);
        capacity("moe.eval_capacity_factor", evalCapacityFactor, expertChoice);
        ConfigCheck.inRange("moe.aux_loss_coef", auxLossCoef, 0, Double.MAX_VALUE);
        ConfigCheck.inRange("moe.z_loss_coef", zLossCoef, 0, Double.MAX_VALUE);
        if (!(jitter >= 0 && jitter < 1)) {
            throw new IllegalArgumentException("moe.jitter=" + jitter + " is out of range: must be in [0, 1)");
        }
        Experts.check(expert);
        ConfigCheck.atLeast("moe.hidden", hidden, 1);
        ConfigCheck.atLeast("moe.every", every, 1);
        ConfigCheck.atLeast("moe.shared_experts", sharedExperts, 0);
        ConfigCheck.inRange("moe.bias_update_rate", biasUpdateRate, 0, 1);
        boolean topK = router.equals("topk") || router.equals("switch");
        if (gate.equals("sigmoid") && !topK) {
            throw new IllegalArgumentException("moe.gate=sigmoid is defined for moe.router=topk or switch, not "
                    + router + " (prototypes and expert choice normalise a softmax of their own)");
        }
        if (gate.equals("sigmoid") && renormalize) {
            throw new IllegalArgumentException("moe.renormalize=true does not apply to moe.gate=sigmoid, whose"
                    + " weights are always normalised over the chosen experts");
        }
        if (balance.equals("bias") && expertChoice) {
            throw new IllegalArgumentException("moe.balance=bias is not defined for moe.router=expert_choice, whose"
                    + " experts are full by construction");
        }
        if (auxScope.equals("sequence") && expertChoice) {
            throw new IllegalArgumentException("moe.aux_scope=sequence is not defined for moe.router=expert_choice,"
                    + " which has no load-balancing loss");
        }
        ConfigCheck.atLeast("moe.route_groups", routeGroups, 1);
        if (routeGroups > 1 && !topK) {
            throw new IllegalArgumentException("moe.route_groups=" + routeGroups + " is defined for moe.router=topk"
                    + " or switch, not " + router);
        }
        if (experts % routeGroups != 0) {
            throw new IllegalArgumentException("moe.experts=" + experts + " is not divisible by moe.route_groups="
                    + routeGroups);
        }
        if (topGroups < 1 || topGroups > routeGroups) {
            throw new IllegalArgumentException("moe.top_groups=" + topGroups + " is out of range: must be in [1, "
                    + "moe.route_groups=" + routeGroups + "]");
        }
        int reachable = topGroups * (experts / routeGroups);
        if (topK && (router.equals("switch") ? 1 : k) > reachable) {
            throw new IllegalArgumentException("moe.k=" + k + " exceeds the " + reachable + " experts of "
                    + "moe.top_groups=" + topGroups + " groups of " + experts / routeGroups);
        }
    }

    /**
     * The routing of the M6-T paper and its baselines: softmax gates, the load-balancing loss over
     * the batch, no shared experts, no groups.
     */
    public MoeConfig(String router, int experts, int k, double capacityFactor, double evalCapacityFactor,
                     boolean renormalize, double auxLossCoef, double zLossCoef, double jitter, String expert,
                     int hidden, int every) {
        this(router, experts, k, capacityFactor, evalCapacityFactor, renormalize, auxLossCoef, zLossCoef, jitter,
                expert, hidden, every, 0, "softmax", "aux_loss", DEFAULT_BIAS_UPDATE_RATE, "batch", 1, 1);
    }

    private static void oneOf(String field, String value, List<String> allowed) {
        if (value == null || !allowed.contains(value)) {
            throw new IllegalArgumentException(field + "=" + value + " is not allowed: must be one of " + allowed);
        }
    }

    /** A capacity factor: positive, or 0 for dropless where the router has capacity to choose. */
    private static void capacity(String field, double value, boolean expertChoice) {
        if (value == 0 && expertChoice) {
            throw new IllegalArgumentException(field + "=0 (dropless) is not defined for moe.router=expert_choice,"
                    + " whose capacity is what each expert takes");
        }
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(field + "=" + value + " is out of range: must be > 0, or 0 for"
                    + " dropless routing");
        }
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
