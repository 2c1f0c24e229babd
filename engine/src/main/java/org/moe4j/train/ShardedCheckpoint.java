package org.moe4j.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.checkpoint.AtomicFiles;
import org.moe4j.train.checkpoint.CheckpointFormat;
import org.moe4j.train.checkpoint.CheckpointFormatException;
import org.moe4j.train.checkpoint.Safetensors;
import org.moe4j.train.checkpoint.SafetensorsFile;
import org.moe4j.train.checkpoint.TensorEntry;

/**
 * The checkpoint of a run over W = ep × dp ranks: a directory {@code checkpoint-stepNNNNNN/} with
 * {@code dense.safetensors} (rank 0: every parameter that is not an expert's), and
 * {@code experts-rankE.safetensors} (rank E of the first expert group, E &lt; ep: its experts' rows
 * of every expert parameter), all in the {@link Checkpoint} format, with the AdamW moments of
 * their parameters; with a sharded optimizer the moments are instead in
 * {@code optimizer-rankR.safetensors}, one per rank, each holding the slices rank R owns
 * ({@link ShardedOptimizer}) and where they lie. The manifest {@code checkpoint.json} names the
 * files, the layout (W, ep, dp, whether the optimizer is sharded), the step and the config.
 *
 * <p>Atomic as a whole: the ranks write into {@code checkpoint-stepNNNNNN.tmp/}, meet at a barrier,
 * then rank 0 renames the directory and replaces the manifest atomically; the manifest is the
 * commit. A rank lost before the barrier makes every rank fail there, so no manifest names a
 * partial checkpoint, and the previous one stays valid. Older checkpoint directories are removed
 * after the commit.
 *
 * <p>{@link #load} reassembles the full tensors (experts concatenated in expert-rank order, the
 * moment slices put back where the layout says they were), so a sharded checkpoint resumes on any
 * valid layout ({@link Checkpoint#shardExperts}), and eval, generate and inspect read it like a
 * single-process checkpoint. Version 1 manifests (experts over all W ranks, no layout) are read too.
 */
public final class ShardedCheckpoint {
    public static final String MANIFEST = "checkpoint.json";
    static final String FORMAT = "moe4j-sharded-checkpoint";
    static final int VERSION = 2;
    private static final String DENSE = "dense.safetensors";
    private static final String SLICES_KEY = "moe4j.optimizer_slices";
    private static final String STEP_KEY = "moe4j.step";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private ShardedCheckpoint() {
    }

    /** What runs between writing a shard and the commit. */
    @FunctionalInterface
    interface IORunnable {
        void run() throws IOException;
    }

    /**
     * Every rank calls this at the same step; returns when the manifest names the new checkpoint.
     *
     * @param optimizer    the optimizer of every parameter, or null with a sharded one
     * @param sharded      the sharded optimizer, or null
     * @param shardWritten runs once this rank's files are written, before the ranks meet to commit
     */
    static void save(Path runDir, ExpertParallel layout, TrainConfig config, int step, long dataRngState,
                     Map<String, Long> jitterStates, Map<String, Tensor> parameters, Map<String, Tensor> buffers,
                     Set<String> expertNames, AdamWOptimizer optimizer, ShardedOptimizer sharded,
                     IORunnable shardWritten) throws IOException {
        int rank = layout.rank();
        String name = String.format("checkpoint-step%06d", step);
        Path tmp = runDir.resolve(name + ".tmp");
        Files.createDirectories(tmp);
        List<Path> written = new ArrayList<>();
        try {
            Map<String, Tensor> experts = new LinkedHashMap<>();
            Map<String, Tensor> dense = new LinkedHashMap<>();
            parameters.forEach((n, p) -> (expertNames.contains(n) ? experts : dense).put(n, p));
            if (layout.replica() == 0) {
                written.add(tmp.resolve(shardFile(rank)));
                Checkpoint.save(written.getLast(), config, step, dataRngState, jitterStates, experts, Map.of(),
                        optimizer);
            }
            if (rank == 0) {
                written.add(tmp.resolve(DENSE));
                Checkpoint.save(written.getLast(), config, step, dataRngState, jitterStates, dense, buffers, optimizer);
            }
            if (sharded != null) {
                written.add(tmp.resolve(optimizerFile(rank)));
                saveSlices(written.getLast(), step, sharded);
            }
            shardWritten.run();
            layout.group().barrier();
        } catch (IOException | RuntimeException e) {
            // Never leave a partial checkpoint: the manifest was not replaced, and this rank's files go.
            for (Path p : written) {
                Files.deleteIfExists(p);
            }
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException notEmpty) {
                // another rank's shard is still there; the next save removes the directory
            }
            throw e;
        }
        if (rank == 0) {
            Path done = runDir.resolve(name);
            deleteTree(done);
            Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
            byte[] bytes = (GSON.toJson(manifest(layout, config, step, name, sharded != null)) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            AtomicFiles.writeStream(runDir.resolve(MANIFEST), out -> out.write(bytes));
            try (Stream<Path> old = Files.list(runDir)) {
                for (Path p : old.filter(p -> p.getFileName().toString().startsWith("checkpoint-step")
                        && !p.getFileName().toString().equals(name)).toList()) {
                    deleteTree(p);
                }
            }
        }
        layout.group().barrier();
    }

    private static JsonObject manifest(ExpertParallel layout, TrainConfig config, int step, String directory,
                                       boolean shardedOptimizer) {
        int ep = layout.expertRanks();
        JsonObject manifest = new JsonObject();
        manifest.addProperty("format", FORMAT);
        manifest.addProperty("version", VERSION);
        manifest.addProperty("world_size", layout.worldSize());
        JsonObject shape = new JsonObject();
        shape.addProperty("ep", ep);
        shape.addProperty("dp", layout.replicas());
        shape.addProperty("shard_optimizer", shardedOptimizer);
        manifest.add("layout", shape);
        manifest.addProperty("step", step);
        manifest.addProperty("directory", directory);
        manifest.addProperty("dense", DENSE);
        int experts = config.model().moe() == null ? 0 : config.model().moe().experts();
        JsonArray shards = new JsonArray();
        for (int e = 0; e < ep; e++) {
            JsonObject s = new JsonObject();
            s.addProperty("rank", e);
            s.addProperty("file", shardFile(e));
            s.addProperty("first_expert", e * experts / ep);
            s.addProperty("experts", experts / ep);
            shards.add(s);
        }
        manifest.add("shards", shards);
        if (shardedOptimizer) {
            JsonArray slices = new JsonArray();
            for (int r = 0; r < layout.worldSize(); r++) {
                JsonObject s = new JsonObject();
                s.addProperty("rank", r);
                s.addProperty("file", optimizerFile(r));
                slices.add(s);
            }
            manifest.add("optimizer_shards", slices);
        }
        manifest.add("config", JsonParser.parseString(ConfigLoader.toJson(config)));
        return manifest;
    }

    /** This rank's moment slices: {@code optimizer.m.NAME} and {@code .v.}, flat, and where each lies. */
    private static void saveSlices(Path path, int step, ShardedOptimizer sharded) throws IOException {
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        JsonObject ranges = new JsonObject();
        for (ShardedOptimizer.Slice s : sharded.slices().values()) {
            s.parameter().device().copyToHost(s.m());
            s.parameter().device().copyToHost(s.v());
            tensors.put(Checkpoint.FIRST_MOMENT + s.name(), TensorEntry.f32(s.m().clone(), s.m().length));
            tensors.put(Checkpoint.SECOND_MOMENT + s.name(), TensorEntry.f32(s.v().clone(), s.v().length));
            JsonArray range = new JsonArray();
            range.add(s.from());
            range.add(s.to());
            ranges.add(s.name(), range);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(STEP_KEY, Integer.toString(step));
        metadata.put(SLICES_KEY, ranges.toString());
        Safetensors.write(path, tensors, CheckpointFormat.stamp(metadata));
    }

    /** Reads the manifest and every file it names; returns the whole model's checkpoint. */
    public static Checkpoint load(Path manifestPath) throws IOException {
        JsonObject manifest;
        try {
            manifest = JsonParser.parseString(Files.readString(manifestPath)).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointFormatException(manifestPath, "not a JSON manifest: " + e.getMessage(), e);
        }
        String format = manifest.has("format") ? manifest.get("format").getAsString() : "";
        int version = manifest.has("version") ? manifest.get("version").getAsInt() : -1;
        if (!FORMAT.equals(format) || version < 1 || version > VERSION) {
            throw new CheckpointFormatException(manifestPath, "format '" + format + "' version " + version
                    + " is not " + FORMAT + " version 1 to " + VERSION);
        }
        int w = manifest.get("world_size").getAsInt();
        // Version 1 sharded the experts over all W ranks and kept every moment with its parameter.
        if (version > 1 && !manifest.has("layout")) {
            throw new CheckpointFormatException(manifestPath, "version " + version + " without its layout");
        }
        JsonObject layout = version == 1 ? null : manifest.getAsJsonObject("layout");
        int ep = layout == null ? w : layout.get("ep").getAsInt();
        boolean slicedMoments = layout != null && layout.get("shard_optimizer").getAsBoolean();
        Path dir = manifestPath.toAbsolutePath().getParent().resolve(manifest.get("directory").getAsString());
        Checkpoint dense = Checkpoint.load(dir.resolve(manifest.get("dense").getAsString()));
        Map<String, TensorEntry> tensors = new LinkedHashMap<>(dense.tensors());
        JsonArray shardList = manifest.getAsJsonArray("shards");
        if (shardList.size() != ep) {
            throw new CheckpointFormatException(manifestPath, "lists " + shardList.size() + " expert shards for ep="
                    + ep + " (world size " + w + ")");
        }
        List<Checkpoint> shards = new ArrayList<>();
        for (int r = 0; r < ep; r++) {
            Checkpoint shard = Checkpoint.load(dir.resolve(shardList.get(r).getAsJsonObject().get("file").getAsString()));
            checkStep(shard.path(), shard.step(), dense);
            shards.add(shard);
        }
        for (String name : shards.get(0).tensors().keySet()) {
            tensors.put(name, concatRows(name, shards, manifestPath));
        }
        if (slicedMoments) {
            JsonArray sliceList = manifest.getAsJsonArray("optimizer_shards");
            if (sliceList == null || sliceList.size() != w) {
                throw new CheckpointFormatException(manifestPath, "a sharded optimizer over " + w
                        + " ranks needs " + w + " optimizer shards, the manifest lists "
                        + (sliceList == null ? "none" : sliceList.size()));
            }
            List<Path> files = new ArrayList<>();
            for (int r = 0; r < w; r++) {
                files.add(dir.resolve(sliceList.get(r).getAsJsonObject().get("file").getAsString()));
            }
            tensors.putAll(assembleMoments(files, ep, tensors, shards.get(0).tensors().keySet(), dense));
        }
        return new Checkpoint(manifestPath, dense.config(), dense.step(), dense.dataRngState(), dense.jitterStates(),
                tensors);
    }

    /**
     * The full moments of every parameter from the ranks' slices: rank r's slice of an expert
     * parameter lies in the rows of its expert rank {@code r mod ep}; each value must be covered once.
     *
     * @param files      the optimizer shards, by rank
     * @param parameters the whole model's parameters (and buffers), experts concatenated
     * @param expertNames the expert parameters
     */
    private static Map<String, TensorEntry> assembleMoments(List<Path> files, int ep,
                                                            Map<String, TensorEntry> parameters,
                                                            Set<String> expertNames, Checkpoint dense)
            throws IOException {
        Map<String, float[]> first = new LinkedHashMap<>();
        Map<String, float[]> second = new LinkedHashMap<>();
        Map<String, Long> covered = new LinkedHashMap<>();
        parameters.forEach((name, entry) -> {
            if (Checkpoint.isParameter(name)) {
                first.put(name, new float[entry.numel()]);
                second.put(name, new float[entry.numel()]);
                covered.put(name, 0L);
            }
        });
        for (int r = 0; r < files.size(); r++) {
            SafetensorsFile file = Safetensors.read(files.get(r));
            CheckpointFormat.check(file);
            String ranges = file.metadata().get(SLICES_KEY);
            String step = file.metadata().get(STEP_KEY);
            if (ranges == null || step == null) {
                throw new CheckpointFormatException(file.path(), "no metadata '" + SLICES_KEY + "' and '" + STEP_KEY
                        + "': not an optimizer shard");
            }
            checkStep(file.path(), Integer.parseInt(step), dense);
            for (Map.Entry<String, com.google.gson.JsonElement> slice
                    : JsonParser.parseString(ranges).getAsJsonObject().entrySet()) {
                String name = slice.getKey();
                float[] m = first.get(name);
                if (m == null) {
                    throw new CheckpointFormatException(file.path(), "holds moments of '" + name
                            + "', which is not a parameter of the checkpoint");
                }
                int from = slice.getValue().getAsJsonArray().get(0).getAsInt();
                int to = slice.getValue().getAsJsonArray().get(1).getAsInt();
                int offset = expertNames.contains(name) ? r % ep * (m.length / ep) : 0;
                int limit = expertNames.contains(name) ? m.length / ep : m.length;
                if (from < 0 || to < from || to > limit) {
                    throw new CheckpointFormatException(file.path(), "slice [" + from + ", " + to + ") of '" + name
                            + "' lies outside its " + limit + " values");
                }
                System.arraycopy(file.tensor(Checkpoint.FIRST_MOMENT + name).floats(), 0, m, offset + from, to - from);
                System.arraycopy(file.tensor(Checkpoint.SECOND_MOMENT + name).floats(), 0, second.get(name),
                        offset + from, to - from);
                covered.merge(name, (long) (to - from), Long::sum);
            }
        }
        Map<String, TensorEntry> moments = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : first.entrySet()) {
            String name = e.getKey();
            if (covered.get(name) != e.getValue().length) {
                throw new CheckpointFormatException(files.getFirst().getParent(), "the optimizer shards hold "
                        + covered.get(name) + " moments of '" + name + "', which has " + e.getValue().length
                        + " values");
            }
            int[] shape = parameters.get(name).shape();
            moments.put(Checkpoint.FIRST_MOMENT + name, TensorEntry.f32(e.getValue(), shape));
            moments.put(Checkpoint.SECOND_MOMENT + name, TensorEntry.f32(second.get(name), shape));
        }
        return moments;
    }

    private static void checkStep(Path file, int step, Checkpoint dense) throws CheckpointFormatException {
        if (step != dense.step()) {
            throw new CheckpointFormatException(file, "is of step " + step + " but " + dense.path() + " of step "
                    + dense.step());
        }
    }

    private static TensorEntry concatRows(String name, List<Checkpoint> shards, Path manifest)
            throws CheckpointFormatException {
        int[] shape = shards.get(0).tensors().get(name).shape();
        int rowsEach = shape[0];
        int size = shards.get(0).tensors().get(name).floats().length;
        float[] all = new float[size * shards.size()];
        for (int r = 0; r < shards.size(); r++) {
            TensorEntry part = shards.get(r).tensors().get(name);
            if (part == null || !Arrays.equals(part.shape(), shape)) {
                throw new CheckpointFormatException(manifest, "shard of rank " + r + " lacks '" + name
                        + "' of shape " + Arrays.toString(shape));
            }
            System.arraycopy(part.floats(), 0, all, r * size, size);
        }
        int[] full = shape.clone();
        full[0] = rowsEach * shards.size();
        return TensorEntry.f32(all, full);
    }

    private static String shardFile(int rank) {
        return "experts-rank" + rank + ".safetensors";
    }

    private static String optimizerFile(int rank) {
        return "optimizer-rank" + rank + ".safetensors";
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
