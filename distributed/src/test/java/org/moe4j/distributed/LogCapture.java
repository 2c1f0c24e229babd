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
        synchronized (messages) {
            messages.notifyAll();
        }
    }

    List<String> messages() {
        return List.copyOf(messages);
    }

    /** Waits until a message containing text has been logged; false if none came within limit. */
    boolean await(String text, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (messages) {
            while (messages.stream().noneMatch(m -> m.contains(text))) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(messages, left);
            }
            return true;
        }
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
