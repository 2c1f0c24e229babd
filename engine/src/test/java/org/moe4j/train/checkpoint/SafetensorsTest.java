package org.moe4j.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.random.SplitMix64;

class SafetensorsTest {

    @TempDir
    Path dir;

    private static Map<String, TensorEntry> sample() {
        SplitMix64 rng = new SplitMix64(7);
        float[] w = new float[2 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        Map<String, TensorEntry> t = new LinkedHashMap<>();
        t.put("layer.0.weight", TensorEntry.f32(w, 2, 3));
        t.put("special", TensorEntry.f32(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, -0.0f}, 3));
        t.put("ids", TensorEntry.i32(new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}, 2, 2));
        t.put("rng.state", TensorEntry.i64(new long[] {0xE220A8397B1DCDAFL}));
        t.put("moments", TensorEntry.f64(new double[] {Math.PI, -1e-300}, 2));
        t.put("bytes", TensorEntry.u8(new byte[] {0, (byte) 255, 7}, 3));
        t.put("empty", TensorEntry.f32(new float[0], 0, 4));
        return t;
    }

    private Path writeSample() throws IOException {
        Path p = dir.resolve("ckpt.safetensors");
        Safetensors.write(p, sample(), CheckpointFormat.stamp(Map.of("step", "120", "note", "ünïcode \"quoted\"")));
        return p;
    }

    @Test
    void roundTripsAllDtypesAndMetadata() throws IOException {
        Path p = writeSample();
        SafetensorsFile f = Safetensors.read(p);
        assertEquals(sample(), f.tensors());
        assertEquals("120", f.metadata().get("step"));
        assertEquals("ünïcode \"quoted\"", f.metadata().get("note"));
        assertTrue(f.metadata().get(CheckpointFormat.CRC_KEY).matches("[0-9a-f]{8}"));
        assertArrayEquals(new int[] {2, 3}, f.tensor("layer.0.weight").shape());
        assertArrayEquals(new int[0], f.tensor("rng.state").shape());
        CheckpointFormat.check(f);
    }

    @Test
    void layoutIsSafetensors() throws IOException {
        byte[] b = Files.readAllBytes(writeSample());
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{"), header);
        assertTrue(header.contains("\"layer.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), header);
        // First float of the data section is the first weight, little-endian.
        float first = ByteBuffer.wrap(b, 8 + (int) n, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        assertEquals(sample().get("layer.0.weight").floats()[0], first);
    }

    @Test
    void refusesTruncatedFile() throws IOException {
        Path p = writeSample();
        byte[] b = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(b, b.length - 5));
        assertRefused(p, "truncated");
        Files.write(p, Arrays.copyOf(b, 5));
        assertRefused(p, "truncated");
    }

    @Test
    void refusesBitFlipInData() throws IOException {
        Path p = writeSample();
        byte[] b = Files.readAllBytes(p);
        b[b.length - 10] ^= 0x10;
        Files.write(p, b);
        CheckpointFormatException e = assertRefused(p, "is corrupted: checksum");
        assertTrue(e.getMessage().contains("delete it or resume from an earlier one"), e.getMessage());
    }

    @Test
    void refusesHeaderLengthLargerThanFile() throws IOException {
        Path p = dir.resolve("big.safetensors");
        Files.write(p, rawFile(1L << 40, "{}"));
        assertRefused(p, "header length 1099511627776 is larger than the file");
        Files.write(p, rawFile(-1L, "{}"));
        assertRefused(p, "header length 18446744073709551615 is larger than the file");
    }

    @Test
    void refusesGarbageHeader() throws IOException {
        Path p = dir.resolve("garbage.safetensors");
        Files.write(p, rawFile(-2, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_of"));
        assertRefused(p, "header JSON");
        Files.write(p, rawFile(-2, "\u00ff\u00fe not json at all"));
        assertRefused(p, "header");
        Files.write(p, rawFile(-2, "[1, 2]"));
        assertRefused(p, "not a JSON object");
        Files.write(p, rawFile(-2, "{\"__metadata__\": {\"k\": 3}}"));
        assertRefused(p, "must be strings");
    }

    @Test
    void refusesInconsistentOffsets() throws IOException {
        Path p = dir.resolve("bad.safetensors");
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        Files.write(p, withData(overlap, 12));
        assertRefused(p, "overlap");
        String wrongSize = "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Files.write(p, withData(wrongSize, 8));
        assertRefused(p, "needs 16");
        String outOfRange = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        Files.write(p, withData(outOfRange, 8));
        assertRefused(p, "beyond the data section");
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        Files.write(p, withData(gap, 8));
        assertRefused(p, "gap of 4 bytes");
        String huge = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,8]}}";
        Files.write(p, withData(huge, 8));
        assertRefused(p, "more elements than a Java array holds");
    }

    @Test
    void refusesUnknownDtype() throws IOException {
        Path p = dir.resolve("dtype.safetensors");
        Files.write(p, withData("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
        assertRefused(p, "unknown dtype \"Q7\"");
        Files.write(p, withData("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4));
        assertRefused(p, "BF16 is not supported");
    }

    @Test
    void formatCheckSaysHowToProceed() throws IOException {
        Path p = dir.resolve("plain.safetensors");
        Safetensors.write(p, Map.of("x", TensorEntry.f32(new float[] {1}, 1)), Map.of());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> CheckpointFormat.check(Safetensors.read(p)));
        assertTrue(e.getMessage().contains("is not a moe4j checkpoint"), e.getMessage());
        Safetensors.write(p, Map.of(), Map.of(CheckpointFormat.FORMAT_KEY, CheckpointFormat.FORMAT,
                CheckpointFormat.VERSION_KEY, "0"));
        e = assertThrows(CheckpointFormatException.class, () -> CheckpointFormat.check(Safetensors.read(p)));
        assertTrue(e.getMessage().contains("version 0") && e.getMessage().contains("start a fresh run"), e.getMessage());
    }

    @Test
    void rejectsReservedMetadataAndBadShapes() {
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x"), Map.of(),
                Map.of(CheckpointFormat.CRC_KEY, "00000000")));
        assertThrows(IllegalArgumentException.class, () -> TensorEntry.f32(new float[5], 2, 3));
        assertThrows(IllegalStateException.class, () -> TensorEntry.f32(new float[1]).ints());
    }

    private static CheckpointFormatException assertRefused(Path p, String expected) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().contains(expected), () -> "expected \"" + expected + "\" in: " + e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        return e;
    }

    /** A file whose length prefix is {@code n} ({@code -2}: the real length) followed by {@code header}. */
    private static byte[] rawFile(long n, String header) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n == -2 ? h.length : n).put(h);
        return b.array();
    }

    private static byte[] withData(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).array();
    }
}
