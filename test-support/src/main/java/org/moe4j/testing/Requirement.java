package org.moe4j.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A test that needs something a machine may lack (an OpenCL platform, ptxas, root for network
 * namespaces) is skipped with the reason where it is missing, so that a developer without it can
 * still run the suite. {@code -Dmoe4j.require=opencl,ptxas,...} lists what must be there: a
 * missing one is then a failure, not a skip, so CI cannot go green by skipping.
 */
public final class Requirement {
    /** The system property listing required capabilities, comma-separated. */
    public static final String PROPERTY = "moe4j.require";

    private Requirement() {
    }

    /**
     * Skips the calling test when {@code available} is false (fails it, if {@code capability} is
     * required).
     *
     * @param capability a short name: {@code opencl}, {@code ptxas}, {@code netns}, ...
     * @param reason     why it is missing and how to get it
     */
    public static void assume(String capability, boolean available, String reason) {
        if (available) {
            return;
        }
        String message = capability + " unavailable, test skipped: " + reason;
        if (required().contains(capability)) {
            fail(message + " (" + PROPERTY + " requires " + capability + ")");
        }
        assumeTrue(false, message);
    }

    /** The capabilities {@link #PROPERTY} lists. */
    public static Set<String> required() {
        return Arrays.stream(System.getProperty(PROPERTY, "").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }
}
