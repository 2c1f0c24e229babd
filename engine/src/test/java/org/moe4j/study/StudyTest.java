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

    /** Two learning rates that train, one run whose data file does not exist; two seeds each. */
    private StudyGrid tinyGrid() {
        String missing = dir.resolve("no-such-corpus.txt").toString().replace("\\", "\\\\");
        return StudyGrid.parse(JsonParser.parseString("""
                {"name": "tiny",
                 "base": {"steps": 4, "batch_size": 2, "warmup_steps": 1, "log_every": 2, "eval_every": 2,
                          "eval_batches": 1, "checkpoint_every": 0, "corpus_bytes": 8000,
                          "model": {"context_size": 8, "layers": 1, "heads": 1, "width": 8, "hidden": 16}},
                 "runs": [{"name": "lr-high", "set": {"learning_rate": 0.01}},
                          {"name": "lr-low", "set": {"learning_rate": 0.003}},
                          {"name": "broken", "set": {"data": "%s"}}],
                 "seeds": [1, 2]}""".formatted(missing)).getAsJsonObject(), "test");
    }

    @Test
    void failedRunIsReportedWhileTheOthersComplete() throws IOException {
        Path studyDir = dir.resolve("study");
        Study.Outcome outcome = new Study(tinyGrid(), studyDir, QUIET).run();
        assertEquals(new Study.Outcome(4, 0, 2), outcome);

        Path run = studyDir.resolve("runs/lr-high-s2");
        for (String file : List.of("config.json", "metrics.jsonl", "loss.png", Checkpoint.FILE_NAME, "status.json")) {
            assertTrue(Files.size(run.resolve(file)) > 0, file);
        }
        assertTrue(Files.readString(run.resolve("config.json")).contains("\"seed\": 2"));

        String md = Files.readString(studyDir.resolve(StudyReport.RESULTS_MD));
        assertTrue(md.contains("| config | seeds done | eval loss | perplexity | drop rate | load CV | router entropy"
                + " | tokens/s | params | active params |"), md);
        assertTrue(md.matches("(?s).*\\| lr-high \\| 2/2 \\| \\d\\.\\d{4} ± \\d\\.\\d{4} \\| \\d+\\.\\d{3} \\| – \\| – \\| – "
                + "\\| [\\d,]+ \\| [\\d,]+ \\| [\\d,]+ \\|.*"), md);
        assertTrue(md.contains("| broken | 0/2 | **failed** |"), md);
        assertTrue(md.contains("- `broken-s1`: ") && md.contains("no-such-corpus.txt"), md);
        assertTrue(md.contains("- `lr-low`: learning_rate=0.003"), md);

        JsonObject json = JsonParser.parseString(Files.readString(studyDir.resolve(StudyReport.RESULTS_JSON)))
                .getAsJsonObject();
        JsonArray configs = json.getAsJsonArray("configs");
        assertEquals(3, configs.size());
        JsonObject high = configs.get(0).getAsJsonObject();
        assertEquals("lr-high", high.get("name").getAsString());
        assertEquals(2, high.get("seeds_done").getAsInt());
        double loss = high.get("eval_loss_mean").getAsDouble();
        assertTrue(loss > 0 && loss < 6, "eval loss " + loss);
        assertEquals(Math.exp(loss), high.get("eval_ppl").getAsDouble(), 1e-9);
        assertTrue(high.get("drop_rate").isJsonNull(), "a dense model reports no drops");
        assertEquals(2, high.getAsJsonArray("runs").get(0).getAsJsonObject().getAsJsonArray("eval_loss_curve").size());
        JsonObject broken = configs.get(2).getAsJsonObject();
        assertEquals(2, broken.get("seeds_failed").getAsInt());
        assertTrue(broken.get("eval_loss_mean").isJsonNull());
        JsonObject brokenRun = broken.getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals("failed", brokenRun.get("status").getAsString());
        assertTrue(brokenRun.get("error").getAsString().contains("no-such-corpus.txt"));

        assertTrue(Files.size(studyDir.resolve(StudyPlots.EVAL_CURVES)) > 0);
        assertTrue(Files.size(studyDir.resolve("loss_vs_learning_rate.png")) > 0, "the only numeric varied field");
        assertFalse(Files.exists(studyDir.resolve(StudyPlots.LOAD_CV_VS_LOSS)), "no run reports load CV");
        assertTrue(Files.exists(studyDir.resolve(Study.GRID_FILE)));
    }

    @Test
    void secondInvocationTrainsNothingNewAndAnInterruptedRunStartsOver() throws IOException {
        Path studyDir = dir.resolve("study");
        new Study(tinyGrid(), studyDir, QUIET).run();
        Path checkpoint = studyDir.resolve("runs/lr-low-s1").resolve(Checkpoint.FILE_NAME);
        FileTime written = Files.getLastModifiedTime(checkpoint);

        Study.Outcome again = new Study(tinyGrid(), studyDir, QUIET).run();
        assertEquals(new Study.Outcome(0, 4, 2), again, "finished runs skipped, failed ones tried again");
        assertEquals(written, Files.getLastModifiedTime(checkpoint));
        assertTrue(Files.readString(studyDir.resolve(StudyReport.RESULTS_MD)).contains("| lr-low | 2/2 |"));

        // A run killed before it finished has no status: it is trained again from the start.
        Files.delete(studyDir.resolve("runs/lr-high-s1/status.json"));
        assertEquals(new Study.Outcome(1, 3, 2), new Study(tinyGrid(), studyDir, QUIET).run());
        assertEquals(2, Files.readAllLines(studyDir.resolve("runs/lr-high-s1/metrics.jsonl")).size(),
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
