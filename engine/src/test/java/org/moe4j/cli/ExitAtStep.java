package org.moe4j.cli;

import org.moe4j.train.StepListener;
import org.moe4j.train.Trainer;

/**
 * A step listener for the failure tests of {@code moe launch}, found through
 * {@code META-INF/services} on the test class path. With {@code RANK:STEP} in
 * {@code MOE_TEST_EXIT_AT}, that rank ({@code RANK}, 0 without a launcher) halts with status 3
 * right after that step (and its checkpoint, if one was due); in {@code MOE_TEST_EXIT_AFTER_SHARD},
 * right after writing its shard of that step's checkpoint, before the commit. Only in the first
 * attempt ({@code MOE_RESTART_COUNT} unset or 0), so that a restarted group runs through.
 */
public final class ExitAtStep implements StepListener {
    static final String VARIABLE = "MOE_TEST_EXIT_AT";
    static final String AFTER_SHARD = "MOE_TEST_EXIT_AFTER_SHARD";
    static final int STATUS = 3;

    @Override
    public void afterStep(Trainer trainer, float loss) {
        haltIfAsked(VARIABLE, trainer, "exits after step");
    }

    @Override
    public void shardWritten(Trainer trainer) {
        haltIfAsked(AFTER_SHARD, trainer, "exits after writing its shard of step");
    }

    private static void haltIfAsked(String variable, Trainer trainer, String what) {
        String at = System.getenv(variable);
        if (at == null || !"0".equals(System.getenv().getOrDefault("MOE_RESTART_COUNT", "0"))) {
            return;
        }
        String[] rankStep = at.split(":");
        int rank = Integer.parseInt(System.getenv().getOrDefault("RANK", "0"));
        if (Integer.parseInt(rankStep[0].trim()) == rank && Integer.parseInt(rankStep[1].trim()) == trainer.step()) {
            System.err.printf("%s: rank %d %s %d%n", variable, rank, what, trainer.step());
            System.err.flush();
            Runtime.getRuntime().halt(STATUS);
        }
    }
}
