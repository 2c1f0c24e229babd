package org.moe4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.moe4j.data.Batch;
import org.moe4j.distributed.ProcessGroup;
import org.moe4j.kernels.Device;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.Reductions;

/**
 * The data-parallel side of a run over W ranks laid out {@code ep × dp} ({@link ExpertParallel}):
 * every rank draws the same global batch and keeps its rows (rank-major, {@code B/W} sequences
 * each); dense gradients are summed over all W ranks and expert gradients over the dp copies of
 * their experts (the replica group), in a few large buckets. Each rank differentiates its share of
 * the global objective (cross-entropy over its tokens divided by the global token count, and its
 * shares of the auxiliary losses), so the sums are the single-process gradients of the global
 * batch.
 */
final class DataParallel {
    private final ExpertParallel parallel;
    private final ProcessGroup group;
    private final List<Tensor> dense = new ArrayList<>();
    private final List<Tensor> experts = new ArrayList<>();
    private final int bucketFloats;
    private long allReduceBytes;

    /** @param bucketFloats floats per all-reduce bucket of gradients */
    DataParallel(ExpertParallel parallel, Map<String, Tensor> parameters, Set<String> expertNames, int bucketFloats) {
        this.parallel = parallel;
        this.bucketFloats = bucketFloats;
        this.group = parallel.group();
        parameters.forEach((name, p) -> (expertNames.contains(name) ? experts : dense).add(p));
    }

    /** Checks that the global batch splits evenly over the ranks. */
    static void checkBatch(TrainConfig config, int worldSize) {
        if (config.batchSize() % worldSize != 0) {
            throw new IllegalArgumentException("batch_size=" + config.batchSize() + " is not divisible by the world size "
                    + worldSize + ": every rank takes batch_size/W sequences of the global batch; use a multiple of "
                    + worldSize);
        }
    }

    ExpertParallel parallel() {
        return parallel;
    }

    int rank() {
        return group.rank();
    }

    int worldSize() {
        return group.worldSize();
    }

    /** This rank's rows of the global batch: sequences {@code [r·B/W, (r+1)·B/W)}. */
    Batch slice(Batch global) {
        int rows = global.batchSize() / worldSize();
        int length = global.seqLen();
        int from = rank() * rows * length;
        int to = from + rows * length;
        return new Batch(rows, length, Arrays.copyOfRange(global.inputs(), from, to),
                Arrays.copyOfRange(global.targets(), from, to));
    }

    /** Σ over ranks of {@code value}, in double, added in rank order: the same bits on every rank. */
    double sum(double value) {
        return sum(group, value);
    }

    /** Σ over the ranks of {@code over} of {@code value}, added in rank order. */
    static double sum(ProcessGroup over, double value) {
        double total = 0;
        for (long bits : over.allGather(Double.doubleToLongBits(value))) {
            total += Double.longBitsToDouble(bits);
        }
        return total;
    }

    /** Whether {@code flag} is true on any rank; every rank gets the same answer. */
    boolean anyRank(boolean flag) {
        for (long value : group.allGather(flag ? 1 : 0)) {
            if (value != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sums the dense parameters' gradients over all ranks and the experts' over their replica
     * group, packed into buckets of up to the bucket size (a gradient larger than a bucket goes alone).
     */
    void allReduceGradients(Device device) {
        for (List<Tensor> bucket : buckets(dense, bucketFloats)) {
            reduce(device, group, bucket);
        }
        if (parallel.replicas() > 1) {
            for (List<Tensor> bucket : buckets(experts, bucketFloats)) {
                reduce(device, parallel.replicaGroup(), bucket);
            }
        }
    }

    /** {@code parameters} in order, cut into runs of at most {@code bucketFloats} values (or one larger tensor). */
    static List<List<Tensor>> buckets(List<Tensor> parameters, int bucketFloats) {
        List<List<Tensor>> buckets = new ArrayList<>();
        List<Tensor> bucket = new ArrayList<>();
        long size = 0;
        for (Tensor p : parameters) {
            if (size > 0 && size + p.size() > bucketFloats) {
                buckets.add(bucket);
                bucket = new ArrayList<>();
                size = 0;
            }
            bucket.add(p);
            size += p.size();
        }
        if (size > 0) {
            buckets.add(bucket);
        }
        return buckets;
    }

    /**
     * Global gradient-norm clipping: the dense part (already summed, the same on every rank) plus the
     * expert parts of one expert group's ranks (summed over their copies, so the same in every group).
     *
     * @return the global norm before clipping
     */
    double clip(Device device, double maxNorm) {
        double denseSquares = Reductions.sumOfSquares(device, dense.stream().map(Tensor::grad).toArray(float[][]::new));
        double expertSquares = sum(parallel.expertGroup(), Reductions.sumOfSquares(device,
                experts.stream().map(Tensor::grad).toArray(float[][]::new)));
        double norm = Math.sqrt(denseSquares + expertSquares);
        List<Tensor> all = new ArrayList<>(dense);
        all.addAll(experts);
        GradientClipper.scale(device, all, norm, maxNorm);
        return norm;
    }

    /** Bytes this rank sent in gradient all-reduces so far (and, with a sharded optimizer, its reduce-scatters and all-gathers). */
    long allReduceBytes() {
        return allReduceBytes;
    }

    void addAllReduceBytes(long bytes) {
        allReduceBytes += bytes;
    }

    private void reduce(Device device, ProcessGroup over, List<Tensor> parameters) {
        float[] packed = pack(device, parameters, true);
        over.allReduceSum(packed);
        allReduceBytes += 2L * (over.worldSize() - 1) * packed.length / over.worldSize() * Float.BYTES;
        unpack(device, packed, parameters, true);
    }

    /** The gradients (or values) of {@code parameters} concatenated, read from the device. */
    static float[] pack(Device device, List<Tensor> parameters, boolean grads) {
        float[] packed = new float[Math.toIntExact(parameters.stream().mapToLong(Tensor::size).sum())];
        int at = 0;
        for (Tensor p : parameters) {
            float[] values = grads ? p.grad() : p.data();
            device.copyToHost(values);
            System.arraycopy(values, 0, packed, at, values.length);
            at += values.length;
        }
        return packed;
    }

    /** The inverse of {@link #pack}: {@code packed} back into the gradients (or values), and to the device. */
    static void unpack(Device device, float[] packed, List<Tensor> parameters, boolean grads) {
        int at = 0;
        for (Tensor p : parameters) {
            float[] values = grads ? p.grad() : p.data();
            System.arraycopy(packed, at, values, 0, values.length);
            device.copyToDevice(values);
            at += values.length;
        }
    }
}
