package org.moe4j.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.util.zip.CRC32C;

/** Writes hand-made frames on a link, for tests of malformed input. */
final class RawFrames {
    private RawFrames() {
    }

    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    /** A well-formed frame whose CRC is corrupted when badChecksum. */
    static void write(SocketChannel ch, Op op, long sequence, int source, byte[] payload, boolean badChecksum)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_BYTES + payload.length + Frame.TRAILER_BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(Frame.MAGIC).putInt(op.id).putLong(sequence).putInt(source).putLong(payload.length).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue() ^ (badChecksum ? 1 : 0)).flip();
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Only a header, claiming length bytes. */
    static void writeHeader(SocketChannel ch, int magic, Op op, long sequence, int source, long length)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(magic).putInt(op.id).putLong(sequence).putInt(source).putLong(length).flip();
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
