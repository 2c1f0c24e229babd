package org.moe4j.distributed;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** Collects the records of the org.moe4j.distributed logger (and keeps them off the console). */
final class LogCapture extends Handler implements AutoCloseable {
    private static final SimpleFormatter FORMAT = new SimpleFormatter();
    private final Logger logger = Logger.getLogger("org.moe4j.distributed");
    private final Level previousLevel = logger.getLevel();
    private final boolean previousParents = logger.getUseParentHandlers();
    private final List<String> messages = new CopyOnWriteArrayList<>();

    LogCapture() {
        logger.setLevel(Level.ALL);
        logger.setUseParentHandlers(false);
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
        messages.add(record.getLevel() + " " + FORMAT.formatMessage(record));
    }

    List<String> messages() {
        return List.copyOf(messages);
    }

    /** Waits until a message containing text has been logged. */
    boolean await(String text, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (messages.stream().anyMatch(m -> m.contains(text))) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
        return false;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(previousLevel);
        logger.setUseParentHandlers(previousParents);
    }
}
