package org.moe4j.study;

/**
 * One training run of a study: a grid configuration with one seed.
 *
 * @param config the configuration
 * @param seed   the training seed (initialisation and data order)
 */
public record StudyRun(GridConfig config, long seed) {

    /** {@code <config>-s<seed>}: the run's directory name under the study's {@code runs/}. */
    public String id() {
        return config.name() + "-s" + seed;
    }
}
