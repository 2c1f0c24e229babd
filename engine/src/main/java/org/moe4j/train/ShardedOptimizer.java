package org.moe4j.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.moe4j.distributed.ProcessGroup;
import org.moe4j.kernels.Device;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.checkpoint.CheckpointFormatException;

/**
 * AdamW with its moments sharded over the copies of each parameter (ZeRO stage 1,
 * {@code parallel.shard_optimizer}). The parameters are cut into the all-reduce buckets
 * ({@code all_reduce_bucket_mb}) of {@link DataParallel}: dense buckets are shared by all W ranks,
 * expert buckets by the dp ranks of a replica group. Bucket b of a group of G ranks is cut into G
 * chunks ({@link ProcessGroup#chunkStart}); rank r of the group owns chunk r, keeps the moments of
 * that chunk alone (1/W of the dense parameters, 1/dp of its experts) and updates it.
 *
 * <p>A step: the gradients of every bucket are summed with a reduce-scatter, so each rank receives
 * only the sums of its chunk; the global gradient norm is the sum of every rank's squares of its
 * chunks (each value is owned once); the owned slices are clipped and updated with the AdamW kernel;
 * the updated slices are all-gathered, so every copy of a parameter ends the step equal. The
 * traffic is that of the all-reduce it replaces ((W−1)/W of the bucket each way, twice).
 */
final class ShardedOptimizer {
    private final Device device;
    private final DataParallel parallel;
    private final AdamWOptimizer adamw;
    private final List<Bucket> buckets = new ArrayList<>();
    private int stepsTaken;

    /**
     * One bucket: its parameters concatenated, shared by {@code group}; this rank owns
     * {@code [from, to)} of it.
     */
    private record Bucket(ProcessGroup group, List<Tensor> parameters, int size, int from, int to,
                          List<Slice> slices) {
    }

    /**
     * The part of one parameter this rank owns: {@code [from, to)} of the parameter (its local
     * tensor, for an expert's), at {@code at} in its bucket, with its moments.
     */
    record Slice(String name, Tensor parameter, int from, int to, int at, float[] m, float[] v) {
    }

    ShardedOptimizer(Device device, DataParallel parallel, Map<String, Tensor> parameters, Set<String> expertNames,
                     TrainConfig config) {
        this.device = device;
        this.parallel = parallel;
        this.adamw = new AdamWOptimizer(device, Map.of(), config);
        ExpertParallel layout = parallel.parallel();
        Map<Tensor, String> names = new java.util.IdentityHashMap<>();
        List<Tensor> dense = new ArrayList<>();
        List<Tensor> experts = new ArrayList<>();
        parameters.forEach((name, p) -> {
            names.put(p, name);
            (expertNames.contains(name) ? experts : dense).add(p);
        });
        for (List<Tensor> bucket : DataParallel.buckets(dense, config.allReduceBucketFloats())) {
            buckets.add(bucket(layout.group(), bucket, names));
        }
        for (List<Tensor> bucket : DataParallel.buckets(experts, config.allReduceBucketFloats())) {
            buckets.add(bucket(layout.replicaGroup(), bucket, names));
        }
    }

    private Bucket bucket(ProcessGroup group, List<Tensor> parameters, Map<Tensor, String> names) {
        int size = Math.toIntExact(parameters.stream().mapToLong(Tensor::size).sum());
        int from = group.chunkStart(size, group.rank());
        int to = group.chunkStart(size, group.rank() + 1);
        List<Slice> slices = new ArrayList<>();
        int at = 0;
        for (Tensor p : parameters) {
            int lo = Math.max(from, at);
            int hi = Math.min(to, at + p.size());
            if (lo < hi) {
                slices.add(new Slice(names.get(p), p, lo - at, hi - at, lo, device.allocateFloats(hi - lo),
                        device.allocateFloats(hi - lo)));
            }
            at += p.size();
        }
        return new Bucket(group, parameters, size, from, to, slices);
    }

    /**
     * Sums the gradients, clips them to {@code maxNorm} by the global norm (0: no clipping), applies
     * one AdamW update with learning rate {@code lr} to this rank's slices and gathers the updated
     * parameters on every rank.
     *
     * @return the global gradient norm before clipping
     */
    double step(double lr, double maxNorm) {
        stepsTaken++;
        List<float[]> grads = new ArrayList<>();
        double squares = 0;
        for (Bucket b : buckets) {
            float[] packed = DataParallel.pack(device, b.parameters(), true);
            b.group().reduceScatterSum(packed);
            for (int i = b.from(); i < b.to(); i++) {
                squares += (double) packed[i] * packed[i];
            }
            grads.add(packed);
        }
        double norm = Math.sqrt(parallel.sum(squares));
        float scale = maxNorm > 0 && norm > maxNorm ? (float) (maxNorm / (norm + 1e-6)) : 1f;
        for (int k = 0; k < buckets.size(); k++) {
            Bucket b = buckets.get(k);
            float[] packedGrads = grads.get(k);
            float[] values = DataParallel.pack(device, b.parameters(), false);
            for (Slice s : b.slices()) {
                int n = s.to() - s.from();
                float[] param = java.util.Arrays.copyOfRange(values, s.at(), s.at() + n);
                float[] grad = java.util.Arrays.copyOfRange(packedGrads, s.at(), s.at() + n);
                if (scale != 1f) {
                    for (int i = 0; i < n; i++) {
                        grad[i] *= scale;
                    }
                }
                adamw.update(param, grad, s.m(), s.v(), s.parameter().rank() >= 2, lr, stepsTaken);
                device.copyToHost(param);
                System.arraycopy(param, 0, values, s.at(), n);
            }
            b.group().allGatherChunks(values);
            DataParallel.unpack(device, values, b.parameters(), false);
            int g = b.group().worldSize();
            parallel.addAllReduceBytes(2L * (g - 1) * b.size() / g * Float.BYTES);
        }
        return norm;
    }

    /** Steps taken so far (the bias correction depends on it). */
    int stepsTaken() {
        return stepsTaken;
    }

    /** The slices this rank owns, by parameter name, in parameter order. */
    Map<String, Slice> slices() {
        Map<String, Slice> all = new LinkedHashMap<>();
        for (Bucket b : buckets) {
            for (Slice s : b.slices()) {
                all.put(s.name(), s);
            }
        }
        return all;
    }

    /**
     * Restores the moments of this rank's slices and the step count from {@code checkpoint}, whose
     * expert tensors are this rank's rows ({@link Checkpoint#shardExperts}).
     */
    void restore(Checkpoint checkpoint) throws CheckpointFormatException {
        for (Slice s : slices().values()) {
            checkpoint.copyMomentRange(s.name(), s.parameter().shape(), s.from(), s.m(), s.v());
            device.copyToDevice(s.m());
            device.copyToDevice(s.v());
        }
        stepsTaken = checkpoint.step();
    }
}
