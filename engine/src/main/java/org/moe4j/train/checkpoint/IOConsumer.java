package org.moe4j.train.checkpoint;

import java.io.IOException;

/** A consumer that may throw {@link IOException}: the body of an {@link AtomicFiles} write. */
@FunctionalInterface
public interface IOConsumer<T> {

    /** Writes to {@code target}. */
    void accept(T target) throws IOException;
}
