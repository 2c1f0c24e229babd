package org.moe4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextFileTest {
    @TempDir
    Path dir;

    @Test
    void utf8TextIsReadWithoutWarnings() throws IOException {
        Path file = dir.resolve("ok.txt");
        Files.writeString(file, "naïve café — 17+25=42\n\tтекст\r\n", StandardCharsets.UTF_8);
        TextFile text = TextFile.read(file);
        assertEquals(Files.size(file), text.bytes().length);
        assertTrue(text.warnings().isEmpty(), text.warnings().toString());
    }

    @Test
    void invalidUtf8IsRefusedWithTheOffsetAndLineOfTheFirstBadByte() throws IOException {
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, "line one\nsecond caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextFile.read(latin1));
        assertTrue(e.getMessage().contains("invalid byte 0xe9 at offset 19 (line 2)") && e.getMessage().contains(
                latin1.toString()), e.getMessage());

        Path cut = dir.resolve("cut.txt");
        byte[] euro = "price 5€".getBytes(StandardCharsets.UTF_8);
        Files.write(cut, java.util.Arrays.copyOf(euro, euro.length - 1));
        e = assertThrows(IllegalArgumentException.class, () -> TextFile.read(cut));
        assertTrue(e.getMessage().contains("at offset 7 (line 1)"), e.getMessage());
    }

    @Test
    void validUtf8FullOfControlBytesComesWithAWarning() throws IOException {
        byte[] bytes = new byte[4000];
        Random random = new Random(3);
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) random.nextInt(0x80); // ASCII: valid UTF-8, a quarter of it control bytes
        }
        Path file = dir.resolve("blob.bin");
        Files.write(file, bytes);
        TextFile text = TextFile.read(file);
        assertEquals(1, text.warnings().size());
        assertTrue(text.warnings().getFirst().contains("looks binary"), text.warnings().toString());
    }
}
