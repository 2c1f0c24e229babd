package org.moe4j.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    @Test
    void failedBodyLeavesOldFileAndNoTemporary() throws IOException {
        Path target = dir.resolve("ckpt.bin");
        AtomicFiles.writeStream(target, out -> out.write("old".getBytes(StandardCharsets.UTF_8)));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeStream(target, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, ch -> {
            throw new IllegalStateException("bug");
        }));
        assertEquals("old", Files.readString(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void replacesExistingFileAndCreatesDirectories() throws IOException {
        Path target = dir.resolve("run/a/ckpt.bin");
        AtomicFiles.writeStream(target, out -> out.write(new byte[] {1, 2, 3}));
        AtomicFiles.writeStream(target, out -> out.write(new byte[] {4}));
        assertEquals(1, Files.size(target));
        assertEquals(4, Files.readAllBytes(target)[0]);
    }
}
