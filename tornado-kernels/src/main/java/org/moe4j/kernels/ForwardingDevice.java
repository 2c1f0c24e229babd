package org.moe4j.kernels;

/**
 * A device that hands every call to another: the base of devices that watch one (timing its
 * launches, counting its allocations) and override only what they watch.
 */
public abstract class ForwardingDevice implements Device {
    private final Device device;

    protected ForwardingDevice(Device device) {
        this.device = device;
    }

    /** The device every call goes to. */
    protected final Device delegate() {
        return device;
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public float[] allocateFloats(int length) {
        return device.allocateFloats(length);
    }

    @Override
    public int[] allocateInts(int length) {
        return device.allocateInts(length);
    }

    @Override
    public void copyToDevice(Object array) {
        device.copyToDevice(array);
    }

    @Override
    public void copyToHost(Object array) {
        device.copyToHost(array);
    }

    @Override
    public void release(Object array) {
        device.release(array);
    }

    @Override
    public void finish() {
        device.finish();
    }

    @Override
    public boolean fusesGemmEpilogues() {
        return device.fusesGemmEpilogues();
    }

    @Override
    public void launch(Launch launch) {
        device.launch(launch);
    }

    @Override
    public void close() {
        device.close();
    }
}
