package org.moe4j.data;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level tokens: a token is one byte of the UTF-8 encoding, so the vocabulary is the 256 byte
 * values, no text is out of vocabulary, and no merge table has to be trained or shipped.
 */
public final class ByteTokenizer {

    /** {@code V}: one token per byte value. */
    public static final int VOCAB_SIZE = 256;

    /** {@link #VOCAB_SIZE}, for callers that hold a tokenizer instance. */
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    /** The UTF-8 bytes of {@code text} as tokens in {@code [0, 256)}. */
    public int[] encode(String text) {
        return fromBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes as tokens in {@code [0, 256)}; {@code bytes} is not modified. */
    public static int[] fromBytes(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    /**
     * The text whose UTF-8 bytes are {@code ids}. A model may well emit byte sequences that are
     * not UTF-8 (half a character, a stray continuation byte); they decode to U+FFFD instead of
     * failing, so sampling never throws.
     *
     * @throws IllegalArgumentException if an id is outside {@code [0, 256)}
     */
    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    /** As {@link #decode(int[])} for {@code ids[from, to)}. */
    public String decode(int[] ids, int from, int to) {
        if (from < 0 || to > ids.length || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") is outside ids of length " + ids.length);
        }
        byte[] bytes = new byte[to - from];
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (id < 0 || id >= VOCAB_SIZE) {
                throw new IllegalArgumentException("token " + id + " at index " + i + " is outside [0, " + VOCAB_SIZE + ")");
            }
            bytes[i - from] = (byte) id;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
