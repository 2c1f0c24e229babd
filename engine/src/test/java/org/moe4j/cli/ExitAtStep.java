package org.moe4j.cli;

import org.moe4j.train.StepListener;
import org.moe4j.train.Trainer;

/**
 * A step listener for the tests of {@code moe launch --max-restarts}, found through
 * {@code META-INF/services} on the test class path: with {@code MOE_TEST_EXIT_AT=RANK:STEP} in the
 * environment, that rank ({@code RANK}, 0 without a launcher) halts with status 3 right after that
 * step (and its checkpoint, if one was due), in the first attempt only ({@code MOE_RESTART_COUNT}
 * unset or 0), so that a restarted group runs through.
 */
public final class ExitAtStep implements StepListener {
    static final String VARIABLE = "MOE_TEST_EXIT_AT";
    static final int STATUS = 3;

    @Override
    public void afterStep(Trainer trainer, float loss) {
        String at = System.getenv(VARIABLE);
        if (at == null || !"0".equals(System.getenv().getOrDefault("MOE_RESTART_COUNT", "0"))) {
            return;
        }
        String[] rankStep = at.split(":");
        int rank = Integer.parseInt(System.getenv().getOrDefault("RANK", "0"));
        if (Integer.parseInt(rankStep[0].trim()) == rank && Integer.parseInt(rankStep[1].trim()) == trainer.step()) {
            System.err.printf("%s: rank %d exits after step %d%n", VARIABLE, rank, trainer.step());
            System.err.flush();
            Runtime.getRuntime().halt(STATUS);
        }
    }
}
