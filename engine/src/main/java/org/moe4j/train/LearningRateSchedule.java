package org.moe4j.train;

/**
 * Linear warm-up to the peak, then cosine decay to the floor at the last step. A pure function of
 * the step, so a resumed run follows the same schedule.
 */
public record LearningRateSchedule(double peak, double floor, int warmupSteps, int totalSteps) {

    public static LearningRateSchedule of(TrainConfig config) {
        return new LearningRateSchedule(config.learningRate(), config.minLearningRate(), config.warmupSteps(),
                config.steps());
    }

    /** Learning rate of optimizer step {@code step} (0-based). */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        int decaySteps = Math.max(1, totalSteps - warmupSteps - 1);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return floor + 0.5 * (1 + Math.cos(Math.PI * progress)) * (peak - floor);
    }
}
