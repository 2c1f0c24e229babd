package org.moe4j.train.checkpoint;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors file: dtype, shape and a flat row-major Java array. The shape
 * {@code []} is a scalar of one element; a dimension of 0 is an empty tensor.
 *
 * <p>The data array is <em>not copied</em> (checkpoints hold every parameter, copying them would
 * double peak memory): it must not be modified while the entry is being written. Shapes are copied.
 */
public final class TensorEntry {

    private final DType dtype;
    private final int[] shape;
    private final Object data;

    private TensorEntry(DType dtype, int[] shape, Object data, int length) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        long numel = numel(this.shape);
        if (numel != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + numel
                    + " elements but the " + dtype + " data has " + length);
        }
    }

    /** A {@link DType#F32} tensor; {@code data} is not copied. */
    public static TensorEntry f32(float[] data, int... shape) {
        return new TensorEntry(DType.F32, shape, data, data.length);
    }

    /** A {@link DType#F64} tensor; {@code data} is not copied. */
    public static TensorEntry f64(double[] data, int... shape) {
        return new TensorEntry(DType.F64, shape, data, data.length);
    }

    /** An {@link DType#I32} tensor; {@code data} is not copied. */
    public static TensorEntry i32(int[] data, int... shape) {
        return new TensorEntry(DType.I32, shape, data, data.length);
    }

    /** An {@link DType#I64} tensor; {@code data} is not copied. */
    public static TensorEntry i64(long[] data, int... shape) {
        return new TensorEntry(DType.I64, shape, data, data.length);
    }

    /** A {@link DType#U8} tensor; {@code data} is not copied. */
    public static TensorEntry u8(byte[] data, int... shape) {
        return new TensorEntry(DType.U8, shape, data, data.length);
    }

    /** A zero-filled tensor of {@code dtype}, for the reader to fill. */
    static TensorEntry allocate(DType dtype, int[] shape, int numel) {
        return switch (dtype) {
            case F32 -> f32(new float[numel], shape);
            case F64 -> f64(new double[numel], shape);
            case I32 -> i32(new int[numel], shape);
            case I64 -> i64(new long[numel], shape);
            case U8 -> u8(new byte[numel], shape);
        };
    }

    /** Elements in a tensor of {@code shape} (1 for a scalar), or -1 past {@code Long.MAX_VALUE}. */
    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            if (d != 0 && n > Long.MAX_VALUE / d) {
                return -1;
            }
            n *= d;
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public int numel() {
        return (int) numel(shape);
    }

    /** Size of the data in the file. */
    public long byteLength() {
        return (long) numel() * dtype.byteSize();
    }

    /** The data of an F32 tensor (not a copy). */
    public float[] floats() {
        return (float[]) expect(DType.F32);
    }

    /** The data of an F64 tensor (not a copy). */
    public double[] doubles() {
        return (double[]) expect(DType.F64);
    }

    /** The data of an I32 tensor (not a copy). */
    public int[] ints() {
        return (int[]) expect(DType.I32);
    }

    /** The data of an I64 tensor (not a copy). */
    public long[] longs() {
        return (long[]) expect(DType.I64);
    }

    /** The data of a U8 tensor (not a copy). */
    public byte[] bytes() {
        return (byte[]) expect(DType.U8);
    }

    /** The data array, whatever its type; package code switches on {@link #dtype()}. */
    Object data() {
        return data;
    }

    private Object expect(DType wanted) {
        if (dtype != wanted) {
            throw new IllegalStateException("tensor is " + dtype + " " + Arrays.toString(shape) + ", not " + wanted);
        }
        return data;
    }

    /** Equal dtype, shape and data (floats compared bit for bit, so NaN equals NaN). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TensorEntry t) || dtype != t.dtype || !Arrays.equals(shape, t.shape)) {
            return false;
        }
        return switch (dtype) {
            case F32 -> Arrays.equals((float[]) data, (float[]) t.data);
            case F64 -> Arrays.equals((double[]) data, (double[]) t.data);
            case I32 -> Arrays.equals((int[]) data, (int[]) t.data);
            case I64 -> Arrays.equals((long[]) data, (long[]) t.data);
            case U8 -> Arrays.equals((byte[]) data, (byte[]) t.data);
        };
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), numel());
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
