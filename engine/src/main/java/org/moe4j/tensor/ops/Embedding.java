package org.moe4j.tensor.ops;

import java.util.Arrays;
import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/** Row lookup in an embedding table. */
public final class Embedding {
    private Embedding() {
    }

    /**
     * {@code out[..., :] = table[ids[i], :]}: the rows of {@code table[V,D]} named by {@code ids},
     * shaped {@code outShape + [D]} ({@code [ids.length, D]} when {@code outShape} is empty). The
     * table's gradient is a deterministic scatter-add. Not modified: {@code table}, {@code ids}.
     *
     * @param ids      host array of row indices in {@code [0, V)}
     * @param outShape leading shape of the output; its size must be {@code ids.length}
     */
    public static Tensor lookup(Tape tape, Tensor table, int[] ids, int... outShape) {
        if (table.rank() != 2) {
            throw new IllegalArgumentException("embedding table must be [V, D], got " + table);
        }
        int vocab = table.dim(0);
        int d = table.dim(1);
        int n = ids.length;
        long leading = 1;
        for (int extent : outShape) {
            leading *= extent;
        }
        if (outShape.length > 0 && leading != n) {
            throw new IllegalArgumentException("embedding: outShape " + Arrays.toString(outShape) + " holds "
                    + leading + " ids, got " + n);
        }
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("embedding: ids[" + i + "]=" + ids[i] + " outside [0, " + vocab + ")");
            }
        }
        int[] shape = outShape.length > 0 ? Arrays.copyOf(outShape, outShape.length + 1) : new int[] {n, 0};
        shape[shape.length - 1] = d;

        Device device = tape.device();
        int[] deviceIds = device.allocateInts(n);
        System.arraycopy(ids, 0, deviceIds, 0, n);
        device.copyToDevice(deviceIds);
        boolean recorded = tape.needsGrad(table);
        Tensor out = tape.output(recorded, shape);
        device.launch(org.moe4j.kernels.lib.Embedding.grid(n, d), org.moe4j.kernels.lib.Embedding::embeddingForward,
                out.data(), table.data(), deviceIds, n, d);
        if (recorded) {
            tape.record(() -> device.launch(org.moe4j.kernels.lib.Embedding.gridBackward(d),
                    org.moe4j.kernels.lib.Embedding::embeddingBackward, table.grad(), out.grad(), deviceIds, n, d));
        }
        return out;
    }
}
