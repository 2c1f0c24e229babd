package org.moe4j.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary JMH result {@code tokens}, normalised by time like the primary score, so that it reads
 * in tokens/s. A benchmark adds the tokens one invocation processed.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Tokens {
    public double tokens;

    @Setup(Level.Iteration)
    public void reset() {
        tokens = 0;
    }
}
