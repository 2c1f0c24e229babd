package org.moe4j.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.train.Checkpoint;

/** Running a tiny grid: results, a failed run, resuming. */
class StudyTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    /**
     * A dense model, a tiny MoE model at two capacity factors, and a run whose data file does not
     * exist; two seeds each. The model is explicit (dense or MoE per run), not the default.
     */
    private StudyGrid tinyGrid() {
        String missing = dir.resolve("no-such-corpus.txt").toString().replace("\\", "\\\\");
        return StudyGrid.parse(JsonParser.parseString("""
                {"name": "tiny",
                 "base": {"steps": 4, "batch_size": 2, "warmup_steps": 1, "log_every": 2, "eval_every": 2,
                          "eval_batches": 1, "checkpoint_every": 0, "corpus_bytes": 8000,
                          "model": {"context_size": 8, "layers": 1, "heads": 1, "width": 8, "hidden": 16,
                                    "moe": {"router": "topk", "experts": 4, "k": 2, "hidden": 8,
                                            "capacity_factor": 1.0, "eval_capacity_factor": 2.0,
                                            "aux_loss_coef": 0.01, "z_loss_coef": 0.0, "jitter": 0.0,
                                            "renormalize": false, "expert": "gelu", "every": 1}}},
                 "runs": [{"name": "dense", "set": {"model.moe": null}},
                          {"name": "moe-cf1", "set": {"model.moe.capacity_factor": 1.0}},
                          {"name": "moe-cf2", "set": {"model.moe.capacity_factor": 2.0}},
                          {"name": "broken", "set": {"data": "%s"}}],
                 "seeds": [1, 2]}""".formatted(missing)).getAsJsonObject(), "test");
    }

    @Test
    void failedRunIsReportedWhileTheOthersComplete() throws IOException {
        Path studyDir = dir.resolve("study");
        Study.Outcome outcome = new Study(tinyGrid(), studyDir, QUIET).run();
        assertEquals(new Study.Outcome(6, 0, 2), outcome);

        Path run = studyDir.resolve("runs/moe-cf1-s2");
        for (String file : List.of("config.json", "metrics.jsonl", "loss.png", Checkpoint.FILE_NAME, "status.json")) {
            assertTrue(Files.size(run.resolve(file)) > 0, file);
        }
        assertTrue(Files.readString(run.resolve("config.json")).contains("\"seed\": 2"));

        String md = Files.readString(studyDir.resolve(StudyReport.RESULTS_MD));
        assertTrue(md.contains("| config | seeds done | eval loss | perplexity | drop rate | load CV | router entropy"
                + " | slot use | tokens/s | params | active params |"), md);
        assertTrue(md.matches("(?s).*\\| dense \\| 2/2 \\| \\d\\.\\d{4} ± \\d\\.\\d{4} \\| \\d+\\.\\d{3} \\| – \\| – \\| – \\| – "
                + "\\| [\\d,]+ \\| [\\d,]+ \\| [\\d,]+ \\|.*"), md);
        for (String moe : List.of("moe-cf1", "moe-cf2")) {
            assertTrue(md.matches("(?s).*\\| " + moe + " \\| 2/2 \\| \\d\\.\\d{4} ± \\d\\.\\d{4} \\| \\d+\\.\\d{3} "
                    + "\\| \\d+\\.\\d{2}% \\| \\d\\.\\d{3} \\| \\d\\.\\d{3} \\| \\d\\.\\d{3} \\| [\\d,]+ \\| [\\d,]+ \\| [\\d,]+ \\|.*"), md);
        }
        assertTrue(md.contains("| broken | 0/2 | **failed** |"), md);
        assertTrue(md.contains("- `broken-s1`: ") && md.contains("no-such-corpus.txt"), md);
        assertTrue(md.contains("- `moe-cf2`: model.moe.capacity_factor=2.0"), md);

        JsonObject json = JsonParser.parseString(Files.readString(studyDir.resolve(StudyReport.RESULTS_JSON)))
                .getAsJsonObject();
        JsonArray configs = json.getAsJsonArray("configs");
        assertEquals(4, configs.size());
        JsonObject dense = configs.get(0).getAsJsonObject();
        assertEquals("dense", dense.get("name").getAsString());
        assertEquals(2, dense.get("seeds_done").getAsInt());
        double loss = dense.get("eval_loss_mean").getAsDouble();
        assertTrue(loss > 0 && loss < 6, "eval loss " + loss);
        assertEquals(Math.exp(loss), dense.get("eval_ppl").getAsDouble(), 1e-9);
        for (String column : List.of("drop_rate", "load_cv", "router_entropy")) {
            assertTrue(dense.get(column).isJsonNull(), "a dense model reports no " + column);
        }
        assertEquals(dense.get("params_total").getAsLong(), dense.get("params_active").getAsLong(),
                "dense: every parameter is active");
        assertEquals(2, dense.getAsJsonArray("runs").get(0).getAsJsonObject().getAsJsonArray("eval_loss_curve").size());

        // MoE: routing columns from the trainer's metrics, active parameters two experts of four.
        JsonObject cf1 = configs.get(1).getAsJsonObject();
        JsonObject cf2 = configs.get(2).getAsJsonObject();
        for (JsonObject moe : List.of(cf1, cf2)) {
            double drop = moe.get("drop_rate").getAsDouble();
            double cv = moe.get("load_cv").getAsDouble();
            double entropy = moe.get("router_entropy").getAsDouble();
            assertTrue(drop >= 0 && drop <= 1, "drop rate " + drop);
            assertTrue(cv >= 0, "load CV " + cv);
            assertTrue(entropy > 0 && entropy <= Math.log(4) + 1e-9, "entropy over 4 experts " + entropy);
            long total = moe.get("params_total").getAsLong();
            long active = moe.get("params_active").getAsLong();
            long experts = 4 * (2 * 8 * 8 + 8 + 8); // E · (D·F + F + F·D + D), width 8, hidden 8
            assertEquals(experts / 2, total - active, "the two experts a token does not use");
        }
        // 16 tokens, k = 2 of 4 experts: capacity factor 2 gives 16 slots per expert, so nothing is dropped.
        assertEquals(0.0, cf2.get("drop_rate").getAsDouble());
        JsonObject firstRun = cf1.getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals(lastLoggedLoadCv(studyDir.resolve("runs/moe-cf1-s1")), firstRun.get("load_cv").getAsDouble(), 1e-12);

        JsonObject broken = configs.get(3).getAsJsonObject();
        assertEquals(2, broken.get("seeds_failed").getAsInt());
        assertTrue(broken.get("eval_loss_mean").isJsonNull());
        JsonObject brokenRun = broken.getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals("failed", brokenRun.get("status").getAsString());
        assertTrue(brokenRun.get("error").getAsString().contains("no-such-corpus.txt"));

        assertTrue(Files.size(studyDir.resolve(StudyPlots.EVAL_CURVES)) > 0);
        assertTrue(Files.size(studyDir.resolve("loss_vs_model.moe.capacity_factor.png")) > 0,
                "the MoE runs' line; the dense run has no capacity factor");
        assertTrue(Files.size(studyDir.resolve(StudyPlots.LOAD_CV_VS_LOSS)) > 0, "the MoE runs report load CV");
        assertTrue(Files.exists(studyDir.resolve(Study.GRID_FILE)));
    }

    /** Mean over MoE layers of {@code load_cv} in the run's last metrics line, read as plain JSON. */
    private static double lastLoggedLoadCv(Path runDir) throws IOException {
        List<String> lines = Files.readAllLines(runDir.resolve("metrics.jsonl"));
        JsonArray layers = JsonParser.parseString(lines.getLast()).getAsJsonObject().getAsJsonArray("moe");
        double sum = 0;
        for (var layer : layers) {
            sum += layer.getAsJsonObject().get("load_cv").getAsDouble();
        }
        return sum / layers.size();
    }

    @Test
    void secondInvocationTrainsNothingNewAndAnInterruptedRunStartsOver() throws IOException {
        Path studyDir = dir.resolve("study");
        new Study(tinyGrid(), studyDir, QUIET).run();
        Path checkpoint = studyDir.resolve("runs/moe-cf2-s1").resolve(Checkpoint.FILE_NAME);
        FileTime written = Files.getLastModifiedTime(checkpoint);

        Study.Outcome again = new Study(tinyGrid(), studyDir, QUIET).run();
        assertEquals(new Study.Outcome(0, 6, 2), again, "finished runs skipped, failed ones tried again");
        assertEquals(written, Files.getLastModifiedTime(checkpoint));
        assertTrue(Files.readString(studyDir.resolve(StudyReport.RESULTS_MD)).contains("| moe-cf2 | 2/2 |"));

        // A run killed before it finished has no status: it is trained again from the start.
        Files.delete(studyDir.resolve("runs/moe-cf1-s1/status.json"));
        assertEquals(new Study.Outcome(1, 5, 2), new Study(tinyGrid(), studyDir, QUIET).run());
        assertEquals(2, Files.readAllLines(studyDir.resolve("runs/moe-cf1-s1/metrics.jsonl")).size(),
                "metrics of the earlier attempt are not kept");
    }

    @Test
    void invalidFieldFailsBeforeAnyRunStarts() {
        StudyGrid grid = StudyGrid.parse(JsonParser.parseString("""
                {"name": "bad", "runs": [{"name": "ok", "set": {"steps": 1}},
                                         {"name": "typo", "set": {"model.widht": 8}}]}""").getAsJsonObject(), "test");
        Path studyDir = dir.resolve("bad");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Study(grid, studyDir, QUIET).run());
        assertTrue(e.getMessage().contains("run 'typo'") && e.getMessage().contains("'model.widht'"), e.getMessage());
        assertFalse(Files.exists(studyDir), "nothing written");
    }
}
