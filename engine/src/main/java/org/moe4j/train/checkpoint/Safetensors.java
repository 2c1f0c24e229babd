package org.moe4j.train.checkpoint;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.EOFException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Reads and writes the safetensors format byte for byte as Python's {@code safetensors} does:
 * an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}}} padded with spaces to a multiple of 8, then the tensors'
 * little-endian bytes back to back, offsets relative to the end of the header.
 *
 * <p>{@link #write} adds the CRC-32 of the data section as metadata {@value CheckpointFormat#CRC_KEY}
 * (8 lowercase hex digits, the value of Python's {@code zlib.crc32}); {@link #read} checks it when
 * present, so a bit flipped on disk is refused rather than trained on. Reading trusts nothing in
 * the file: every length is checked against the file size before anything is allocated.
 */
public final class Safetensors {

    /** Python's safetensors refuses larger headers too; a bigger length means a corrupt file. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA = "__metadata__";
    private static final int CHUNK = 1 << 20;

    private Safetensors() {
    }

    /**
     * Atomically writes {@code tensors} (in map order) and {@code metadata} to {@code path}.
     *
     * @param tensors  name to tensor; names must be non-empty and not {@code __metadata__}. Not modified.
     * @param metadata string pairs for {@code __metadata__}; must not contain {@value CheckpointFormat#CRC_KEY},
     *                 which is computed here. Not modified.
     * @throws IllegalArgumentException for a bad name or a reserved metadata key
     * @throws IOException              if writing fails; an existing file at {@code path} is then unchanged
     */
    public static void write(Path path, Map<String, TensorEntry> tensors, Map<String, String> metadata)
            throws IOException {
        for (String name : tensors.keySet()) {
            if (name == null || name.isEmpty() || name.equals(METADATA)) {
                throw new IllegalArgumentException("invalid tensor name \"" + name + "\": must be non-empty and not "
                        + METADATA);
            }
        }
        if (metadata.containsKey(CheckpointFormat.CRC_KEY)) {
            throw new IllegalArgumentException("metadata key " + CheckpointFormat.CRC_KEY
                    + " is reserved: write() computes it");
        }
        // The CRC is only known after the data is written, but it is 8 hex digits whatever its
        // value, so a placeholder header has the final length and is patched in place afterwards.
        byte[] placeholder = header(tensors, metadata, "00000000");
        AtomicFiles.write(path, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(placeholder.length).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(placeholder));
            CRC32 crc = new CRC32();
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorEntry t : tensors.values()) {
                writeData(ch, t, buf, crc);
            }
            byte[] finalHeader = header(tensors, metadata, String.format("%08x", crc.getValue()));
            assert finalHeader.length == placeholder.length;
            ch.position(8);
            writeFully(ch, ByteBuffer.wrap(finalHeader));
        });
    }

    /**
     * Reads and validates a whole safetensors file.
     *
     * @throws CheckpointFormatException if the file is truncated, its header is malformed, its offsets
     *                                   are inconsistent, a dtype is unsupported, or its checksum does
     *                                   not match; the message says which
     * @throws IOException               if the file cannot be read at all
     */
    public static SafetensorsFile read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointFormatException(path, "file is truncated: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, path);
            long n = lenBuf.flip().getLong();
            // n is unsigned in the format: a negative long is a length past 2^63, surely too large.
            if (n < 0 || n > size - 8) {
                throw new CheckpointFormatException(path, "header length " + Long.toUnsignedString(n)
                        + " is larger than the file (" + size + " bytes): the file is truncated or not safetensors");
            }
            if (n > MAX_HEADER_BYTES) {
                throw new CheckpointFormatException(path, "header length " + n + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes: the file is corrupt or not safetensors");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, path);
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBuf.flip()).toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointFormatException(path, "header is not valid UTF-8: the file is corrupt or not safetensors", e);
            }
            long dataStart = 8 + n;
            long dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<RawEntry> entries = parseHeader(path, json, metadata);
            checkLayout(path, entries, dataLen);

            Map<String, TensorEntry> tensors = new LinkedHashMap<>();
            CRC32 crc = new CRC32();
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            ch.position(dataStart);
            for (RawEntry e : entries) {
                TensorEntry t = TensorEntry.allocate(e.dtype, e.shape, (int) e.numel);
                readData(ch, t, buf, crc, path);
                tensors.put(e.name, t);
            }
            String expected = metadata.get(CheckpointFormat.CRC_KEY);
            if (expected != null) {
                String actual = String.format("%08x", crc.getValue());
                if (!expected.matches("[0-9a-f]{8}")) {
                    throw new CheckpointFormatException(path, "metadata " + CheckpointFormat.CRC_KEY + " is \""
                            + expected + "\", not 8 lowercase hex digits: the header is corrupt");
                }
                if (!actual.equals(expected)) {
                    throw new CheckpointFormatException(path, "checkpoint " + path + " is corrupted: checksum of the data"
                            + " section is " + actual + ", expected " + expected + " (" + CheckpointFormat.CRC_KEY
                            + "); delete it or resume from an earlier one");
                }
            }
            return new SafetensorsFile(path, tensors, metadata);
        }
    }

    /** One tensor as the header describes it, before its data is read. */
    private record RawEntry(String name, DType dtype, int[] shape, long numel, long begin, long end) {
        String where() {
            return "\"" + name + "\" [" + begin + ", " + end + ")";
        }
    }

    private static byte[] header(Map<String, TensorEntry> tensors, Map<String, String> metadata, String crc) {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.beginObject();
            w.name(METADATA).beginObject();
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                w.name(m.getKey()).value(m.getValue());
            }
            w.name(CheckpointFormat.CRC_KEY).value(crc);
            w.endObject();
            long offset = 0;
            for (Map.Entry<String, TensorEntry> e : tensors.entrySet()) {
                TensorEntry t = e.getValue();
                w.name(e.getKey()).beginObject();
                w.name("dtype").value(t.dtype().name());
                w.name("shape").beginArray();
                for (int d : t.shape()) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(offset + t.byteLength()).endArray();
                w.endObject();
                offset += t.byteLength();
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
        // Padding keeps the data 8-byte aligned for readers that memory-map it, as Python's writer does.
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static List<RawEntry> parseHeader(Path path, String json, Map<String, String> metadata)
            throws CheckpointFormatException {
        List<RawEntry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        try (JsonReader r = new JsonReader(new StringReader(json))) {
            r.setStrictness(Strictness.STRICT);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new CheckpointFormatException(path, "header is not a JSON object: the file is corrupt or not safetensors");
            }
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                if (!seen.add(name)) {
                    throw new CheckpointFormatException(path, "header names \"" + name + "\" twice");
                }
                if (name.equals(METADATA)) {
                    r.beginObject();
                    while (r.hasNext()) {
                        String key = r.nextName();
                        if (r.peek() != JsonToken.STRING) {
                            throw new CheckpointFormatException(path, "metadata \"" + key + "\" is " + r.peek()
                                    + ", but safetensors metadata values must be strings");
                        }
                        metadata.put(key, r.nextString());
                    }
                    r.endObject();
                } else {
                    entries.add(parseEntry(path, name, r));
                }
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new CheckpointFormatException(path, "header has data after its JSON object");
            }
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            // Gson reports syntax as MalformedJsonException/EOFException and wrong token kinds as
            // IllegalStateException; either way the header is not what the format says.
            String what = e instanceof EOFException ? "ends early" : "is malformed";
            throw new CheckpointFormatException(path, "header JSON " + what + " (" + e.getMessage()
                    + "): the file is corrupt or not safetensors", e);
        }
        return entries;
    }

    private static RawEntry parseEntry(Path path, String name, JsonReader r) throws IOException {
        String dtypeName = null;
        List<Long> shape = null;
        List<Long> offsets = null;
        r.beginObject();
        while (r.hasNext()) {
            String field = r.nextName();
            switch (field) {
                case "dtype" -> dtypeName = r.nextString();
                case "shape" -> shape = longArray(r);
                case "data_offsets" -> offsets = longArray(r);
                default -> throw new CheckpointFormatException(path, "tensor \"" + name + "\" has unknown field \""
                        + field + "\" (expected dtype, shape, data_offsets)");
            }
        }
        r.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw new CheckpointFormatException(path, "tensor \"" + name + "\" lacks "
                    + (dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        DType dtype;
        try {
            dtype = DType.parse(dtypeName);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(path, "tensor \"" + name + "\": " + e.getMessage());
        }
        int[] dims = new int[shape.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = shape.get(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(path, "tensor \"" + name + "\" has dimension " + d + " in shape "
                        + shape + ", outside [0, " + Integer.MAX_VALUE + "]");
            }
            dims[i] = (int) d;
            numel = d == 0 || numel == 0 ? 0 : (numel > Integer.MAX_VALUE / d ? Long.MAX_VALUE : numel * d);
        }
        if (numel > Integer.MAX_VALUE - 8) { // the largest Java array
            throw new CheckpointFormatException(path, "tensor \"" + name + "\" of shape " + shape
                    + " has more elements than a Java array holds");
        }
        if (offsets.size() != 2 || offsets.get(0) < 0 || offsets.get(1) < offsets.get(0)) {
            throw new CheckpointFormatException(path, "tensor \"" + name + "\" has data_offsets " + offsets
                    + "; expected [begin, end] with 0 <= begin <= end");
        }
        long begin = offsets.get(0);
        long end = offsets.get(1);
        long bytes = numel * dtype.byteSize();
        if (end - begin != bytes) {
            throw new CheckpointFormatException(path, "tensor \"" + name + "\" has data_offsets [" + begin + ", " + end
                    + "] spanning " + (end - begin) + " bytes, but " + dtype + " " + shape + " needs " + bytes);
        }
        return new RawEntry(name, dtype, dims, numel, begin, end);
    }

    private static List<Long> longArray(JsonReader r) throws IOException {
        List<Long> out = new ArrayList<>();
        r.beginArray();
        while (r.hasNext()) {
            out.add(r.nextLong());
        }
        r.endArray();
        return out;
    }

    /** Data must tile [0, dataLen) exactly, as Python's reader demands; sorts entries by offset. */
    private static void checkLayout(Path path, List<RawEntry> entries, long dataLen) throws CheckpointFormatException {
        entries.sort(Comparator.comparingLong(RawEntry::begin).thenComparingLong(RawEntry::end));
        long expectedBegin = 0;
        RawEntry prev = null;
        for (RawEntry e : entries) {
            if (e.begin < expectedBegin) {
                throw new CheckpointFormatException(path, "tensors " + prev.where() + " and " + e.where()
                        + " overlap in the data section");
            }
            if (e.begin > expectedBegin) {
                throw new CheckpointFormatException(path, "gap of " + (e.begin - expectedBegin) + " bytes before tensor "
                        + e.where() + ": data_offsets must cover the data section without holes");
            }
            if (e.end > dataLen) {
                throw new CheckpointFormatException(path, "tensor " + e.where() + " ends beyond the data section of "
                        + dataLen + " bytes: the file is truncated");
            }
            expectedBegin = e.end;
            prev = e;
        }
        if (expectedBegin != dataLen) {
            throw new CheckpointFormatException(path, (dataLen - expectedBegin)
                    + " bytes after the last tensor: the data section is larger than the header describes");
        }
    }

    private static void writeData(FileChannel ch, TensorEntry t, ByteBuffer buf, CRC32 crc) throws IOException {
        int numel = t.numel();
        int per = CHUNK / t.dtype().byteSize();
        for (int off = 0; off < numel; off += per) {
            int n = Math.min(per, numel - off);
            buf.clear();
            switch (t.dtype()) {
                case F32 -> buf.asFloatBuffer().put(t.floats(), off, n);
                case F64 -> buf.asDoubleBuffer().put(t.doubles(), off, n);
                case I32 -> buf.asIntBuffer().put(t.ints(), off, n);
                case I64 -> buf.asLongBuffer().put(t.longs(), off, n);
                case U8 -> buf.put(t.bytes(), off, n);
            }
            buf.position(0).limit(n * t.dtype().byteSize());
            crc.update(buf.duplicate());
            writeFully(ch, buf);
        }
    }

    private static void readData(FileChannel ch, TensorEntry t, ByteBuffer buf, CRC32 crc, Path path)
            throws IOException {
        int numel = t.numel();
        int per = CHUNK / t.dtype().byteSize();
        for (int off = 0; off < numel; off += per) {
            int n = Math.min(per, numel - off);
            buf.clear().limit(n * t.dtype().byteSize());
            readFully(ch, buf, path);
            buf.flip();
            crc.update(buf.duplicate());
            switch (t.dtype()) {
                case F32 -> buf.asFloatBuffer().get(t.floats(), off, n);
                case F64 -> buf.asDoubleBuffer().get(t.doubles(), off, n);
                case I32 -> buf.asIntBuffer().get(t.ints(), off, n);
                case I64 -> buf.asLongBuffer().get(t.longs(), off, n);
                case U8 -> buf.get(t.bytes(), off, n);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, Path path) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                // Sizes were checked against the file size; this means it shrank while being read.
                throw new CheckpointFormatException(path, "file is truncated: ended while reading");
            }
        }
    }
}
