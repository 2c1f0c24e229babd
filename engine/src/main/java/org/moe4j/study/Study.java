package org.moe4j.study;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.moe4j.kernels.Device;
import org.moe4j.train.Checkpoint;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;

/**
 * Runs a {@link StudyGrid} in a study directory, one run after another, then writes the results
 * ({@link StudyReport}):
 *
 * <pre>
 * DIR/grid.json                 the grid, configurations listed one by one
 * DIR/runs/&lt;config&gt;-s&lt;seed&gt;/  a normal run directory (config.json, metrics.jsonl, loss.png,
 *                               checkpoint.safetensors) plus status.json
 * DIR/results.md, results.json, *.png
 * </pre>
 *
 * <p>Every run's config is built before anything trains, so a bad field fails at once. A run is
 * finished when its {@code status.json} says done, its {@code config.json} is the planned config
 * and its checkpoint is at the last step; finished runs are not trained again, so a stopped
 * study continues where it stopped. Any other run directory is cleared and the run starts over.
 * A run that throws is recorded as failed with its error, and the study goes on.
 */
public final class Study {
    /** The folder of the run directories inside a study directory. */
    public static final String RUNS = "runs";
    public static final String GRID_FILE = "grid.json";

    /**
     * A run with its config and directory.
     *
     * @param run    the run
     * @param config its training config
     * @param dir    its run directory
     */
    public record PlannedRun(StudyRun run, TrainConfig config, Path dir) {
    }

    /**
     * What one invocation did.
     *
     * @param trained runs trained to the end now
     * @param skipped runs already finished before
     * @param failed  runs that failed now
     */
    public record Outcome(int trained, int skipped, int failed) {
    }

    private final StudyGrid grid;
    private final Path dir;
    private final PrintStream console;

    /**
     * @param grid    the grid
     * @param dir     the study directory, created if needed
     * @param console where progress goes (the trainer's lines included)
     */
    public Study(StudyGrid grid, Path dir, PrintStream console) {
        this.grid = grid;
        this.dir = dir;
        this.console = console;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Every run with its config, validated; nothing is written.
     *
     * @throws IllegalArgumentException naming the run and the field, if a config is invalid
     */
    public List<PlannedRun> plan() {
        List<PlannedRun> planned = new ArrayList<>();
        for (StudyRun run : grid.runs()) {
            planned.add(new PlannedRun(run, grid.config(run.config(), run.seed()), dir.resolve(RUNS).resolve(run.id())));
        }
        return planned;
    }

    /** Trains the runs that are not finished, then writes the results. */
    public Outcome run() throws IOException {
        List<PlannedRun> planned = plan();
        Files.createDirectories(dir);
        StudyReport.writeText(dir.resolve(GRID_FILE), grid.toJsonText() + "\n");
        int trained = 0;
        int skipped = 0;
        int failed = 0;
        for (int i = 0; i < planned.size(); i++) {
            PlannedRun p = planned.get(i);
            String prefix = String.format(Locale.ROOT, "[%d/%d] %s", i + 1, planned.size(), p.run().id());
            if (finished(p)) {
                skipped++;
                console.println(prefix + ": finished before, skipped");
                continue;
            }
            console.println(prefix + ": " + p.run().config().describe());
            String error = train(p);
            if (error == null) {
                trained++;
            } else {
                failed++;
                console.println(prefix + ": failed: " + error);
            }
        }
        List<RunResult> results = new ArrayList<>();
        for (PlannedRun p : planned) {
            results.add(RunResult.read(p.run(), p.dir()));
        }
        StudyReport.write(dir, grid, planned, results);
        console.printf("study %s: %d trained, %d finished before, %d failed; results in %s%n", grid.name(), trained,
                skipped, failed, dir.resolve(StudyReport.RESULTS_MD));
        return new Outcome(trained, skipped, failed);
    }

    /** Whether {@code p} finished with its planned config: status done, same config, checkpoint at the last step. */
    public static boolean finished(PlannedRun p) {
        Path status = p.dir().resolve(RunResult.STATUS_FILE);
        Path config = p.dir().resolve("config.json");
        try {
            if (!Files.isRegularFile(status) || !Files.isRegularFile(config)
                    || !"done".equals(JsonParser.parseString(Files.readString(status)).getAsJsonObject()
                            .get("status").getAsString())
                    || !Files.readString(config).strip().equals(ConfigLoader.toJson(p.config()).strip())) {
                return false;
            }
            return Checkpoint.load(p.dir().resolve(Checkpoint.FILE_NAME)).step() == p.config().steps();
        } catch (IOException | RuntimeException e) {
            return false; // unreadable or damaged: train it again
        }
    }

    /** Trains one run from scratch; returns null when it finished, or its error. */
    private String train(PlannedRun p) throws IOException {
        clear(p.dir());
        long start = System.nanoTime();
        String error = null;
        try (Device device = Devices.open(p.config().device());
             Trainer trainer = Trainer.start(p.config(), device, RunDirectory.at(p.dir()), console)) {
            trainer.run();
        } catch (Exception e) {
            error = e.getMessage() != null ? e.getMessage() : e.getClass().getName();
        }
        JsonObject status = new JsonObject();
        status.addProperty("status", error == null ? "done" : "failed");
        if (error != null) {
            status.addProperty("error", error);
        }
        status.addProperty("seconds", (System.nanoTime() - start) / 1e9);
        Files.createDirectories(p.dir());
        StudyReport.writeText(p.dir().resolve(RunResult.STATUS_FILE), status + "\n");
        return error;
    }

    /** Deletes what an earlier, unfinished attempt left in a run directory. */
    private static void clear(Path runDir) throws IOException {
        if (!Files.exists(runDir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(runDir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
