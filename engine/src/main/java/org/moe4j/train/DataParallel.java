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
 * The data-parallel side of an expert-parallel run over W ranks: every rank draws the same global
 * batch and keeps its rows (rank-major, {@code B/W} sequences each), dense gradients are summed over
 * the ranks in a few large buckets, and expert gradients stay where their experts are. Each rank
 * differentiates its share of the global objective (cross-entropy over its tokens divided by the
 * global token count, and its shares of the auxiliary losses), so the sums are the single-process
 * gradients of the global batch.
 */
final class DataParallel {
    private final ExpertParallel parallel;
    private final ProcessGroup group;
    private final List<Tensor> dense = new ArrayList<>();
    private final List<Tensor> experts = new ArrayList<>();
    private final int bucketFloats;
    private long allReduceBytes;

    /** @param bucketFloats floats per all-reduce bucket of dense gradients */
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
                    + worldSize + ": every rank takes batch_size/W sequences of the global batch");
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
        double total = 0;
        for (long bits : group.allGather(Double.doubleToLongBits(value))) {
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
     * Sums the dense parameters' gradients over the ranks, packed into buckets of up to the bucket
     * size (a gradient larger than a bucket goes alone).
     */
    void allReduceDenseGradients(Device device) {
        List<float[]> bucket = new ArrayList<>();
        int size = 0;
        for (Tensor p : dense) {
            float[] grad = p.grad();
            if (size > 0 && size + grad.length > bucketFloats) {
                reduce(device, bucket, size);
                bucket.clear();
                size = 0;
            }
            bucket.add(grad);
            size += grad.length;
        }
        if (size > 0) {
            reduce(device, bucket, size);
        }
    }

    /**
     * Global gradient-norm clipping: the dense part (already summed, the same on every rank) plus the
     * expert parts of all ranks.
     *
     * @return the global norm before clipping
     */
    double clip(Device device, double maxNorm) {
        double denseSquares = Reductions.sumOfSquares(device, dense.stream().map(Tensor::grad).toArray(float[][]::new));
        double expertSquares = sum(Reductions.sumOfSquares(device,
                experts.stream().map(Tensor::grad).toArray(float[][]::new)));
        double norm = Math.sqrt(denseSquares + expertSquares);
        List<Tensor> all = new ArrayList<>(dense);
        all.addAll(experts);
        GradientClipper.scale(device, all, norm, maxNorm);
        return norm;
    }

    /** Bytes this rank sent in gradient all-reduces so far. */
    long allReduceBytes() {
        return allReduceBytes;
    }

    private void reduce(Device device, List<float[]> grads, int size) {
        float[] packed = new float[size];
        int at = 0;
        for (float[] grad : grads) {
            device.copyToHost(grad);
            System.arraycopy(grad, 0, packed, at, grad.length);
            at += grad.length;
        }
        group.allReduceSum(packed);
        allReduceBytes += 2L * (worldSize() - 1) * size / worldSize() * Float.BYTES;
        at = 0;
        for (float[] grad : grads) {
            System.arraycopy(packed, at, grad, 0, grad.length);
            device.copyToDevice(grad);
            at += grad.length;
        }
    }
}
