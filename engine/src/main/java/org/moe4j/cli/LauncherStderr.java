package org.moe4j.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code moe} launcher passes the JVM's own stderr through a filter (it drops the warning the
 * JVM prints about the incubating Vector API) and hands the program a copy of the real stderr
 * instead: {@code -Dmoe4j.stderr=/dev/fd/3:INODE}. Writing there directly keeps the program's
 * messages in order with its stdout and complete when it exits. The inode must match, so a
 * descriptor 3 that is something else (the property copied into another JVM) is never written to.
 */
final class LauncherStderr {
    /** What the JVM prints first when the Vector API is on; rank output forwarded by {@code launch} drops it too. */
    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    /** The system property the launcher sets. */
    static final String PROPERTY = "moe4j.stderr";

    private LauncherStderr() {
    }

    /** Points {@link System#err} at the launcher's copy of the real stderr, when there is one. */
    static void use() {
        String spec = System.getProperty(PROPERTY);
        if (spec == null || spec.lastIndexOf(':') < 0) {
            return;
        }
        Path fd = Path.of(spec.substring(0, spec.lastIndexOf(':')));
        String inode = spec.substring(spec.lastIndexOf(':') + 1);
        try {
            if (!inode.equals(String.valueOf(Files.getAttribute(fd, "unix:ino")))) {
                return;
            }
            System.setErr(new PrintStream(new FileOutputStream(fd.toFile(), true), true, System.err.charset()));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // no such descriptor or no unix attributes: keep the JVM's stderr
        }
    }
}
