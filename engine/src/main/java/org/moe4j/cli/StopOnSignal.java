package org.moe4j.cli;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * Holds the JVM's shutdown while a body runs. SIGINT and SIGTERM start the shutdown: the hook calls
 * {@code onSignal} (a trainer's {@code requestStop}) and waits for the body to end (the step
 * finished, the checkpoint written, the message printed); then the JVM exits with the signal's
 * conventional status, 130 for SIGINT and 143 for SIGTERM.
 */
final class StopOnSignal {
    private StopOnSignal() {
    }

    /** The body of a command that may throw what commands throw. */
    @FunctionalInterface
    interface Body {
        void run() throws IOException;
    }

    static void run(Body body, Runnable onSignal) throws IOException {
        CountDownLatch ended = new CountDownLatch(1);
        Thread hook = Thread.ofPlatform().name("stop-on-signal").unstarted(() -> {
            onSignal.run();
            boolean waited = false;
            while (!waited) {
                try {
                    ended.await();
                    waited = true;
                } catch (InterruptedException e) {
                    // the JVM is exiting either way; the body still gets to finish
                }
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            body.run();
        } finally {
            ended.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the body ended
            }
        }
    }
}
