package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM of a test and everything it printed: stdout line by line, stderr as text. */
final class ChildProcess {
    final Process process;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final StringBuilder stderr = new StringBuilder();
    final Thread[] readers;

    ChildProcess(Process process) {
        this.process = process;
        readers = new Thread[] {
            Thread.ofPlatform().daemon().start(() -> drain(process.getInputStream(), lines, null)),
            Thread.ofPlatform().daemon().start(() -> drain(process.getErrorStream(), null, stderr))};
    }

    private static void drain(InputStream in, BlockingQueue<String> lines, StringBuilder text) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null;) {
                if (lines != null) {
                    lines.add(line);
                } else {
                    synchronized (text) {
                        text.append(line).append('\n');
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    String nextLine(String prefix, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
        }
        fail("no line starting with '" + prefix + "' within " + seconds + " s; stderr: " + stderr());
        return null;
    }

    String stderr() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    int exit(long seconds) throws Exception {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            fail("process hung; stderr: " + stderr());
        }
        for (Thread t : readers) {
            t.join(2000);
        }
        return process.exitValue();
    }
}
