package org.moe4j.train.checkpoint;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file all at once or not at all. The body writes a temporary file in the target's
 * directory (same file system, so the rename is atomic); the file is forced to disk, renamed over
 * the target with {@code ATOMIC_MOVE}, and the directory is forced so the rename itself survives a
 * power cut. If anything fails the temporary file is deleted and the old target is left as it was:
 * a crash while checkpointing never destroys the previous checkpoint.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /**
     * Atomically replaces {@code target} with what {@code body} writes to a fresh channel (opened
     * for reading and writing, so a body may go back and patch a header). Missing parent
     * directories are created.
     *
     * @throws IOException whatever the body or the file system threw; {@code target} is then unchanged
     */
    public static void write(Path target, IOConsumer<FileChannel> body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        // A dot-name so directory listings and "latest checkpoint" globs skip half-written files.
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                body.accept(ch);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        forceDirectory(dir);
    }

    /**
     * As {@link #write(Path, IOConsumer)} for a body that writes a stream. The stream is buffered;
     * the body must not close it.
     */
    public static void writeStream(Path target, IOConsumer<OutputStream> body) throws IOException {
        write(target, ch -> {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            body.accept(out);
            out.flush(); // not close(): that would close the channel before write() forces it
        });
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open a directory as a channel; the rename has happened
            // and is as durable as that platform allows, so this is not a failed write.
            if (!System.getProperty("os.name", "").startsWith("Windows")) {
                throw e;
            }
        }
    }
}
