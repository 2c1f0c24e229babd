package org.moe4j.kernels;

/**
 * A device with memory of its own whose arrays move by {@link ResidentBuffers}' rules: what the
 * OpenCL and CUDA devices share. A subclass says how to allocate, copy and free
 * ({@link #allocate}, {@link #zero}, {@link #upload}, {@link #download}, {@link #free}) and what a
 * call needs first ({@link #enter}); the copies the host asks for are made here, under the device's lock.
 *
 * @param <M> the device's handle of one buffer
 */
public abstract class BufferedDevice<M> implements ResidentDevice {
    /** The device's buffers; subclasses use them under the device's lock. */
    protected final ResidentBuffers<M> buffers = new ResidentBuffers<>(new ResidentBuffers.Memory<>() {
        @Override
        public M allocate(Object array, long bytes) {
            return BufferedDevice.this.allocate(array, bytes);
        }

        @Override
        public void zero(M buffer, long bytes) {
            BufferedDevice.this.zero(buffer, bytes);
        }

        @Override
        public void upload(Object array, M buffer, long bytes) {
            BufferedDevice.this.upload(array, buffer, bytes);
        }

        @Override
        public void download(M buffer, Object array, long bytes) {
            BufferedDevice.this.download(buffer, array, bytes);
        }

        @Override
        public void free(M buffer) {
            BufferedDevice.this.free(buffer);
        }
    });

    /** Checks the device is open and readies it for a call from this thread (a CUDA context, say). */
    protected abstract void enter();

    /** A buffer of {@code bytes} for {@code array}; a failure names the array and the sizes. */
    protected abstract M allocate(Object array, long bytes);

    protected abstract void zero(M buffer, long bytes);

    protected abstract void upload(Object array, M buffer, long bytes);

    protected abstract void download(M buffer, Object array, long bytes);

    protected abstract void free(M buffer);

    @Override
    public synchronized float[] allocateFloats(int length) {
        enter();
        float[] array = new float[length];
        buffers.allocateZeroed(array);
        return array;
    }

    @Override
    public synchronized int[] allocateInts(int length) {
        enter();
        int[] array = new int[length];
        buffers.allocateZeroed(array);
        return array;
    }

    @Override
    public synchronized void copyToDevice(Object array) {
        enter();
        buffers.copyToDevice(array);
    }

    /** Nothing to do for an array the device does not hold (also once the device is closed). */
    @Override
    public synchronized void copyToHost(Object array) {
        if (buffers.holds(array)) {
            enter();
            buffers.copyToHost(array);
        }
    }

    @Override
    public synchronized void release(Object array) {
        if (buffers.holds(array)) {
            enter();
            buffers.release(array);
        }
    }

    @Override
    public synchronized Transfers transfers() {
        return buffers.transfers();
    }

    @Override
    public synchronized boolean holds(Object array) {
        return buffers.holds(array);
    }

    @Override
    public synchronized long deviceBytes() {
        return buffers.deviceBytes();
    }
}
