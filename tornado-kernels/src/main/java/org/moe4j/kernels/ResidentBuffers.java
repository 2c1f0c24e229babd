package org.moe4j.kernels;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;

/**
 * The residency rules of a device with memory of its own: which device buffer holds each host
 * array, and which side is newer. Host arrays are the handles, kept in an identity map with weak
 * keys (the buffer of an array the JVM collected is freed on a later call):
 * <ul>
 *   <li>{@link #allocateZeroed}: a zeroed buffer for a new zeroed array, no copy;</li>
 *   <li>{@link #copyToDevice}: the host wrote the array: upload it;</li>
 *   <li>{@link #forLaunch}: an array a launch passes is uploaded when the device has never seen it;
 *       {@link #written} marks an array a kernel stored into as newer on the device;</li>
 *   <li>{@link #copyToHost}: download only when the device copy is newer.</li>
 * </ul>
 * The device says how to allocate, copy and free ({@link Memory}); this class says when. Not
 * thread-safe: devices call it under their own lock.
 *
 * @param <M> the device's handle of one buffer
 */
public final class ResidentBuffers<M> {

    /** What a device does with its memory; {@link ResidentBuffers} decides when. */
    public interface Memory<M> {
        /** A buffer of {@code bytes} (at least 1) for {@code array}; its contents do not matter. */
        M allocate(Object array, long bytes);

        void zero(M buffer, long bytes);

        void upload(Object array, M buffer, long bytes);

        void download(M buffer, Object array, long bytes);

        void free(M buffer);
    }

    private static final class Buffer<M> {
        final M memory;
        final long bytes;
        boolean deviceNewer;

        Buffer(M memory, long bytes) {
            this.memory = memory;
            this.bytes = bytes;
        }
    }

    /** A weak reference that compares its referent by identity, so arrays with equal contents stay apart. */
    private static final class ArrayKey extends WeakReference<Object> {
        private final int hash;

        ArrayKey(Object array, ReferenceQueue<Object> queue) {
            super(array, queue);
            this.hash = System.identityHashCode(array);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            Object referent = get();
            return o instanceof ArrayKey other && referent != null && referent == other.get();
        }
    }

    private final Memory<M> memory;
    private final Map<ArrayKey, Buffer<M>> buffers = new HashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    private long deviceBytes;
    private long uploads;
    private long downloads;
    private long bytesUploaded;
    private long bytesDownloaded;

    public ResidentBuffers(Memory<M> memory) {
        this.memory = memory;
    }

    /** A zeroed buffer for {@code array} (new and zeroed on the host too): the two sides agree without a copy. */
    public void allocateZeroed(Object array) {
        Buffer<M> b = create(array);
        if (b.bytes > 0) {
            memory.zero(b.memory, b.bytes);
        }
    }

    /** The host has written {@code array}: upload it (allocating its buffer on first sight). */
    public void copyToDevice(Object array) {
        Buffer<M> b = buffers.get(probe(array));
        upload(array, b != null ? b : create(array));
    }

    /** The host is about to read {@code array}: download it when a kernel wrote it since the last copy. */
    public void copyToHost(Object array) {
        Buffer<M> b = buffers.get(probe(array));
        if (b == null || !b.deviceNewer) {
            return;
        }
        if (b.bytes > 0) {
            memory.download(b.memory, array, b.bytes);
        }
        downloads++;
        bytesDownloaded += b.bytes;
        b.deviceNewer = false;
    }

    /** Frees the buffer of {@code array} now, if it has one. */
    public void release(Object array) {
        Buffer<M> b = buffers.remove(probe(array));
        if (b != null) {
            free(b);
        }
    }

    /** The buffer a launch passes for {@code array}, uploaded first when the device has never seen the array. */
    public M forLaunch(Object array) {
        Buffer<M> b = buffers.get(probe(array));
        if (b == null) {
            b = create(array);
            upload(array, b);
        }
        return b.memory;
    }

    /** A kernel stored into {@code array}: the device copy is newer. */
    public void written(Object array) {
        Buffer<M> b = buffers.get(probe(array));
        if (b == null) {
            throw new IllegalStateException(describe(array) + " was written by a launch but has no buffer");
        }
        b.deviceNewer = true;
    }

    public boolean holds(Object array) {
        return buffers.containsKey(probe(array));
    }

    /** Bytes of the buffers held now (after freeing those of collected arrays). */
    public long deviceBytes() {
        expunge();
        return deviceBytes;
    }

    /** Buffers held now. */
    public int count() {
        return buffers.size();
    }

    public Transfers transfers() {
        return new Transfers(uploads, downloads, bytesUploaded, bytesDownloaded);
    }

    /** Frees the buffers of arrays the JVM has collected. */
    public void expunge() {
        for (Object ref; (ref = collected.poll()) != null; ) {
            Buffer<M> b = buffers.remove((ArrayKey) ref);
            if (b != null) {
                free(b);
            }
        }
    }

    /** Frees every buffer (the device is closing). */
    public void freeAll() {
        for (Buffer<M> b : buffers.values()) {
            memory.free(b.memory);
        }
        buffers.clear();
        deviceBytes = 0;
    }

    /** Bytes of {@code array}'s elements. */
    public static long bytes(Object array) {
        long element = switch (array) {
            case float[] f -> 4;
            case int[] i -> 4;
            case long[] l -> 8;
            case double[] d -> 8;
            case null -> throw new IllegalArgumentException("array is null");
            default -> throw new IllegalArgumentException("not an int, long, float or double array: "
                    + array.getClass().getSimpleName());
        };
        return element * java.lang.reflect.Array.getLength(array);
    }

    /** {@code float[100]}, for messages. */
    public static String describe(Object array) {
        return array.getClass().getComponentType().getSimpleName() + "[" + java.lang.reflect.Array.getLength(array) + "]";
    }

    private ArrayKey probe(Object array) {
        return new ArrayKey(array, null);
    }

    private Buffer<M> create(Object array) {
        expunge();
        long bytes = bytes(array);
        Buffer<M> b = new Buffer<>(memory.allocate(array, Math.max(bytes, 4)), bytes);
        buffers.put(new ArrayKey(array, collected), b);
        deviceBytes += bytes;
        return b;
    }

    private void upload(Object array, Buffer<M> b) {
        if (b.bytes > 0) {
            memory.upload(array, b.memory, b.bytes);
        }
        uploads++;
        bytesUploaded += b.bytes;
        b.deviceNewer = false;
    }

    private void free(Buffer<M> b) {
        memory.free(b.memory);
        deviceBytes -= b.bytes;
    }
}
