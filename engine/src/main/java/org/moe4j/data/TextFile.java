package org.moe4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A text file to train on, read and checked: it must be UTF-8 (a byte sequence that is not is
 * refused with its offset and line), and a file that is UTF-8 but full of control bytes (an image, a
 * compressed file that happened to decode) comes with a warning, since training on it is almost
 * certainly a mistake.
 *
 * @param bytes    the file's bytes; not copied
 * @param warnings what looked wrong but not wrong enough to refuse
 */
public record TextFile(Path path, byte[] bytes, List<String> warnings) {
    /** Share of control bytes (other than tab, newline, carriage return, form feed) above which a file looks binary. */
    static final double BINARY_CONTROL_SHARE = 0.01;

    /**
     * @throws IllegalArgumentException if the file is not valid UTF-8, naming the offset of the first bad byte
     */
    public static TextFile read(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        int bad = firstInvalidUtf8(bytes);
        if (bad >= 0) {
            int line = 1;
            for (int i = 0; i < bad; i++) {
                line += bytes[i] == '\n' ? 1 : 0;
            }
            throw new IllegalArgumentException(String.format("data=%s is not UTF-8 text: invalid byte 0x%02x at offset"
                    + " %d (line %d); convert it first, e.g. iconv -f LATIN1 -t UTF-8", path, bytes[bad] & 0xff, bad, line));
        }
        long control = 0;
        for (byte b : bytes) {
            control += b >= 0 && b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' ? 1 : 0;
        }
        List<String> warnings = control > BINARY_CONTROL_SHARE * bytes.length
                ? List.of(String.format("data=%s looks binary: %d of its %d bytes are control characters; training"
                        + " on its bytes anyway", path, control, bytes.length))
                : List.of();
        return new TextFile(path, bytes, warnings);
    }

    /** The offset of the first byte that does not belong to a valid UTF-8 sequence, or -1. */
    static int firstInvalidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return in.position();
            }
            if (result.isUnderflow()) {
                return decoder.flush(out).isError() ? in.position() : -1;
            }
            out.clear();
        }
    }
}
