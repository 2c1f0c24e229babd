package org.moe4j.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One trainer per run directory: an operating-system lock on {@code train.lock}, held while the
 * trainer lives, with the holder's host and pid written in the file for the message a second
 * trainer gets. The operating system releases the lock when its process dies, so a lock file left
 * by a dead process is free: the next trainer takes it over, with a warning naming the old holder.
 */
public final class RunLock implements AutoCloseable {
    /** The lock file's name inside a run directory. */
    public static final String FILE_NAME = "train.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code runDir} (which must exist).
     *
     * @param console where the take-over warning goes
     * @throws IllegalArgumentException naming the holder when another trainer has the directory
     */
    static RunLock acquire(Path runDir, PrintStream console) throws IOException {
        Path file = runDir.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            String previous = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
            FileLock lock = tryLock(channel);
            if (lock == null) {
                throw new IllegalArgumentException("run directory " + runDir + " is in use by another trainer ("
                        + (previous.isEmpty() ? "holder unknown" : previous) + ", lock file " + file
                        + "); wait for it to finish or train into another --run-dir");
            }
            if (!previous.isEmpty()) {
                console.printf("warning: taking over %s from %s, which no longer holds it%n", file, previous);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(holder().getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new RunLock(channel, lock);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The lock, or null when another process or another trainer in this one holds it. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException heldInThisProcess) {
            return null;
        }
    }

    /** {@code pid P on host H}. */
    private static String holder() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        return "pid " + ProcessHandle.current().pid() + " on host " + host;
    }

    /** Releases the lock; the file stays, empty, so the next trainer does not warn. */
    @Override
    public void close() {
        try {
            channel.truncate(0);
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release " + FILE_NAME, e);
        }
    }
}
