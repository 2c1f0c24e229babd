package org.moe4j.train;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.moe4j.nn.GptModel;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.checkpoint.CheckpointFormat;
import org.moe4j.train.checkpoint.CheckpointFormatException;
import org.moe4j.train.checkpoint.Safetensors;
import org.moe4j.train.checkpoint.SafetensorsFile;
import org.moe4j.train.checkpoint.TensorEntry;

/**
 * A training checkpoint in safetensors format: the model parameters under their own names (so
 * Python reads the weights directly), the AdamW moments under {@code optimizer.m.} and
 * {@code optimizer.v.}, and in the metadata the config, the step, the data sampler's RNG state and
 * the router jitter's stream state of every MoE layer: everything a resumed run needs to continue
 * the same loss curve.
 *
 * @param jitterStates {@link org.moe4j.moe.JitterNoise} state by MoE layer name
 *                     ({@link GptModel#jitterNoise()}); empty in checkpoints written before it was saved
 */
public record Checkpoint(Path path, TrainConfig config, int step, long dataRngState, Map<String, Long> jitterStates,
                         Map<String, TensorEntry> tensors) {

    public static final String FILE_NAME = "checkpoint.safetensors";
    private static final String CONFIG_KEY = "moe4j.config";
    private static final String STEP_KEY = "moe4j.step";
    private static final String DATA_RNG_KEY = "moe4j.data_rng";
    private static final String JITTER_RNG_KEY = "moe4j.jitter_rng";
    private static final Gson GSON = new Gson();
    /** Tensors of the model that are not parameters (the balance bias): no gradient, no moments. */
    static final String BUFFER = "buffer.";
    static final String FIRST_MOMENT = "optimizer.m.";
    static final String SECOND_MOMENT = "optimizer.v.";

    /**
     * Writes the state after {@code step} completed steps, atomically.
     *
     * @param optimizer whose moments of {@code parameters} to write; null for none (a sharded
     *                  checkpoint whose moments are in its optimizer shards)
     */
    public static void save(Path path, TrainConfig config, int step, long dataRngState, Map<String, Long> jitterStates,
                            Map<String, Tensor> parameters, Map<String, Tensor> buffers, AdamWOptimizer optimizer)
            throws IOException {
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        parameters.forEach((name, p) -> tensors.put(name, TensorEntry.f32(p.toHost().data().clone(), p.shape())));
        buffers.forEach((name, b) -> tensors.put(BUFFER + name, TensorEntry.f32(b.toHost().data().clone(), b.shape())));
        if (optimizer != null) {
            parameters.forEach((name, p) -> {
                tensors.put(FIRST_MOMENT + name, moment(optimizer.firstMoments().get(name), p));
                tensors.put(SECOND_MOMENT + name, moment(optimizer.secondMoments().get(name), p));
            });
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(CONFIG_KEY, ConfigLoader.toJson(config));
        metadata.put(STEP_KEY, Integer.toString(step));
        metadata.put(DATA_RNG_KEY, Long.toString(dataRngState));
        metadata.put(JITTER_RNG_KEY, GSON.toJson(jitterStates));
        Safetensors.write(path, tensors, CheckpointFormat.stamp(metadata));
    }

    /**
     * Reads and validates a checkpoint; a damaged or foreign file is refused with what is wrong. A
     * {@code .json} path is the manifest of a sharded checkpoint ({@link ShardedCheckpoint#load}).
     */
    public static Checkpoint load(Path path) throws IOException {
        if (path.getFileName().toString().endsWith(".json")) {
            return ShardedCheckpoint.load(path);
        }
        SafetensorsFile file = Safetensors.read(path);
        CheckpointFormat.check(file);
        Map<String, String> metadata = file.metadata();
        try {
            TrainConfig config = ConfigLoader.fromJson(require(metadata, CONFIG_KEY, path));
            int step = Integer.parseInt(require(metadata, STEP_KEY, path));
            long rng = Long.parseLong(require(metadata, DATA_RNG_KEY, path));
            Map<String, Long> jitter = new LinkedHashMap<>();
            if (metadata.containsKey(JITTER_RNG_KEY)) {
                JsonParser.parseString(metadata.get(JITTER_RNG_KEY)).getAsJsonObject().entrySet()
                        .forEach(e -> jitter.put(e.getKey(), e.getValue().getAsLong()));
            }
            return new Checkpoint(path, config, step, rng, jitter, file.tensors());
        } catch (IllegalArgumentException | IllegalStateException | JsonParseException e) {
            throw new CheckpointFormatException(path, "invalid metadata: " + e.getMessage(), e);
        }
    }

    /** Copies the stored parameters into {@code parameters}, checking every name and shape. */
    public void restoreParameters(Map<String, Tensor> parameters) throws CheckpointFormatException {
        for (Map.Entry<String, Tensor> entry : parameters.entrySet()) {
            copy(entry.getKey(), entry.getValue().shape(), entry.getValue().data());
            entry.getValue().toDevice();
        }
    }

    /** Copies the stored buffers ({@code GptModel.buffers()}) into {@code buffers}, checking every name and shape. */
    public void restoreBuffers(Map<String, Tensor> buffers) throws CheckpointFormatException {
        for (Map.Entry<String, Tensor> entry : buffers.entrySet()) {
            copy(BUFFER + entry.getKey(), entry.getValue().shape(), entry.getValue().data());
            entry.getValue().toDevice();
        }
    }

    /** Restores the optimizer's moments and step count. */
    public void restoreOptimizer(AdamWOptimizer optimizer, Map<String, Tensor> parameters)
            throws CheckpointFormatException {
        for (Map.Entry<String, Tensor> entry : parameters.entrySet()) {
            int[] shape = entry.getValue().shape();
            float[] first = optimizer.firstMoments().get(entry.getKey());
            float[] second = optimizer.secondMoments().get(entry.getKey());
            copy(FIRST_MOMENT + entry.getKey(), shape, first);
            copy(SECOND_MOMENT + entry.getKey(), shape, second);
            entry.getValue().device().copyToDevice(first);
            entry.getValue().device().copyToDevice(second);
        }
        optimizer.restoreStepsTaken(step);
    }

    /**
     * Copies {@code [from, from + m.length)} of the flat moments of parameter {@code name}, whose
     * shape must be {@code shape}, into {@code m} and {@code v}: what a sharded optimizer restores.
     */
    void copyMomentRange(String name, int[] shape, int from, float[] m, float[] v) throws CheckpointFormatException {
        System.arraycopy(checked(FIRST_MOMENT + name, shape).floats(), from, m, 0, m.length);
        System.arraycopy(checked(SECOND_MOMENT + name, shape).floats(), from, v, 0, v.length);
    }

    /**
     * This checkpoint with every expert parameter in {@code expertNames} (and its moments) cut to
     * rank {@code rank}'s rows of {@code worldSize} equal parts: what that rank restores.
     */
    public Checkpoint shardExperts(Set<String> expertNames, int rank, int worldSize) throws CheckpointFormatException {
        Map<String, TensorEntry> cut = new LinkedHashMap<>(tensors);
        for (String name : expertNames) {
            for (String key : new String[] {name, FIRST_MOMENT + name, SECOND_MOMENT + name}) {
                TensorEntry entry = tensors.get(key);
                if (entry == null) {
                    throw new CheckpointFormatException(path, "no tensor '" + key + "'");
                }
                int[] shape = entry.shape();
                if (shape.length == 0 || shape[0] % worldSize != 0) {
                    throw new CheckpointFormatException(path, "tensor '" + key + "' of shape " + Arrays.toString(shape)
                            + " cannot be split over " + worldSize + " ranks");
                }
                float[] all = entry.floats();
                int part = all.length / worldSize;
                int[] partShape = shape.clone();
                partShape[0] = shape[0] / worldSize;
                cut.put(key, TensorEntry.f32(Arrays.copyOfRange(all, rank * part, (rank + 1) * part), partShape));
            }
        }
        return new Checkpoint(path, config, step, dataRngState, jitterStates, cut);
    }

    /** Number of parameter values (optimizer state excluded). */
    public long parameterCount() {
        return tensors.entrySet().stream().filter(e -> isParameter(e.getKey()))
                .mapToLong(e -> e.getValue().numel()).sum();
    }

    /** Whether a checkpoint tensor is a model parameter (not an optimizer moment or a buffer). */
    public static boolean isParameter(String name) {
        return !name.startsWith("optimizer.") && !name.startsWith(BUFFER);
    }

    private void copy(String name, int[] shape, float[] into) throws CheckpointFormatException {
        System.arraycopy(checked(name, shape).floats(), 0, into, 0, into.length);
    }

    /** The tensor {@code name}, which must have {@code shape}. */
    private TensorEntry checked(String name, int[] shape) throws CheckpointFormatException {
        TensorEntry entry = tensors.get(name);
        if (entry == null) {
            throw new CheckpointFormatException(path, "no tensor '" + name + "' (was it written by another model configuration?)");
        }
        if (!Arrays.equals(entry.shape(), shape)) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' has shape " + Arrays.toString(entry.shape())
                    + " in the checkpoint but " + Arrays.toString(shape) + " in the model");
        }
        return entry;
    }

    private static TensorEntry moment(float[] values, Tensor parameter) {
        parameter.device().copyToHost(values);
        return TensorEntry.f32(values.clone(), parameter.shape());
    }

    private static String require(Map<String, String> metadata, String key, Path path) throws CheckpointFormatException {
        String value = metadata.get(key);
        if (value == null) {
            throw new CheckpointFormatException(path, "no metadata '" + key + "' (not written by moe4j train?)");
        }
        return value;
    }
}
