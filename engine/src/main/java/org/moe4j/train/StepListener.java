package org.moe4j.train;

import java.io.IOException;

/**
 * Called by {@link Trainer} after every optimizer step, once the step's metrics and checkpoint (if
 * one was due) are written: custom logging, early stopping ({@link Trainer#requestStop()}), tests
 * that need a process to fail at a given step. {@code moe train} adds every listener that
 * {@link java.util.ServiceLoader} finds on its class path, so a jar on {@code --classpath} can bring
 * its own.
 */
@FunctionalInterface
public interface StepListener {

    /**
     * @param trainer the trainer, {@link Trainer#step()} being the step just completed
     * @param loss    the step's training loss (the global batch's mean over all ranks)
     */
    void afterStep(Trainer trainer, float loss) throws IOException;

    /**
     * Called on each rank of a sharded run once it has written its shard of the checkpoint of
     * {@link Trainer#step()} and before the checkpoint is committed (the ranks meet, rank 0 writes
     * the manifest); a failure test stops a rank here.
     */
    default void shardWritten(Trainer trainer) throws IOException {
    }
}
