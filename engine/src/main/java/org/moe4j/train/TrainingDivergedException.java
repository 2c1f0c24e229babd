package org.moe4j.train;

/** The loss stopped being a finite number; training stops and the last good checkpoint is kept. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
