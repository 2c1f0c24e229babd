package org.moe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteTokenizerTest {

    private final ByteTokenizer tok = new ByteTokenizer();

    @Test
    void roundTripsUnicode() {
        String s = "17+25=42\nMixture of Experts — ∑ 🚀 ü";
        int[] ids = tok.encode(s);
        for (int id : ids) {
            assertEquals(id, id & 0xFF);
        }
        assertEquals(s, tok.decode(ids));
        assertArrayEquals(new int[] {0x68, 0xC3, 0xBC}, tok.encode("hü"));
    }

    @Test
    void invalidUtf8DecodesToReplacementCharacter() {
        assertEquals("h\uFFFD", tok.decode(new int[] {0x68, 0xC3}));
        assertEquals("\uFFFDa", tok.decode(new int[] {0x80, 0x61}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {256}));
    }
}
