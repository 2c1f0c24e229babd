package org.moe4j.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.train.TrainConfig;

/** Parsing, expansion and validation of study grids. */
class StudyGridTest {
    @TempDir
    Path dir;

    private static StudyGrid parse(String json) {
        return StudyGrid.parse(JsonParser.parseString(json).getAsJsonObject(), "test");
    }

    private static IllegalArgumentException refused(String json) {
        return assertThrows(IllegalArgumentException.class, () -> parse(json));
    }

    @Test
    void runsTimesVaryTimesSeeds() {
        StudyGrid grid = parse("""
                {"name": "g", "base": {"steps": 7, "model": {"layers": 1}},
                 "runs": [{"name": "narrow", "set": {"model.width": 32}}, {"name": "wide", "set": {"model.width": 64}}],
                 "vary": {"learning_rate": [0.001, 0.003], "data": ["a b.txt"]},
                 "seeds": [5, 6]}""");
        assertEquals(List.of("narrow,learning_rate=0.001,data=a_b.txt", "narrow,learning_rate=0.003,data=a_b.txt",
                "wide,learning_rate=0.001,data=a_b.txt", "wide,learning_rate=0.003,data=a_b.txt"),
                grid.configs().stream().map(GridConfig::name).toList());
        assertEquals("model.width=64, learning_rate=0.003, data=a b.txt", grid.configs().get(3).describe());
        List<StudyRun> runs = grid.runs();
        assertEquals(8, runs.size());
        assertEquals("narrow,learning_rate=0.001,data=a_b.txt-s6", runs.get(1).id());

        TrainConfig config = grid.config(grid.configs().get(3), 6);
        assertEquals(7, config.steps());
        assertEquals(1, config.model().layers());
        assertEquals(64, config.model().width());
        assertEquals(0.003, config.learningRate());
        assertEquals("a b.txt", config.data());
        assertEquals(6, config.seed());
        assertEquals(TrainConfig.DEFAULT.batchSize(), config.batchSize());
    }

    @Test
    void varyAloneAndDefaultSeed() {
        StudyGrid grid = parse("{\"name\": \"v\", \"vary\": {\"model.width\": [16, 32], \"steps\": [2]}}");
        assertEquals(List.of("model.width=16,steps=2", "model.width=32,steps=2"),
                grid.configs().stream().map(GridConfig::name).toList());
        assertEquals(List.of(TrainConfig.DEFAULT.seed()), grid.seeds());
    }

    @Test
    void jsonFormRoundTrips() throws IOException {
        StudyGrid grid = parse("""
                {"name": "g", "base": {"steps": 3}, "vary": {"learning_rate": [0.1, 0.2]}, "seeds": [1, 2],
                 "plot_loss_against": ["learning_rate"]}""");
        Path file = dir.resolve("grid.json");
        Files.writeString(file, grid.toJsonText());
        StudyGrid back = StudyGrid.read(file);
        assertEquals(grid.configs(), back.configs());
        assertEquals(grid.seeds(), back.seeds());
        assertEquals(grid.base(), back.base());
        assertEquals(List.of("learning_rate"), back.plotLossAgainst());
    }

    @Test
    void structureErrorsNameTheProblem() {
        assertMessage(refused("{\"name\": \"g\"}"), "no runs");
        assertMessage(refused("{\"name\": \"g\", \"runs\": []}"), "\"runs\" is empty");
        assertMessage(refused("{\"name\": \"g\", \"vary\": {\"steps\": []}}"), "vary.steps has no values");
        assertMessage(refused("{\"name\": \"g\", \"vary\": {\"steps\": [1]}, \"sweep\": 1}"), "unknown key 'sweep'");
        assertMessage(refused("{\"name\": \"g\", \"runs\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}"),
                "duplicate run name 'a'");
        assertMessage(refused("{\"name\": \"g\", \"runs\": [{\"name\": \"a\", \"set\": {\"seed\": 3}}]}"),
                "\"seeds\"");
        assertMessage(refused("{\"name\": \"g\", \"runs\": [{\"name\": \"a/b\"}]}"), "run name 'a/b'");
        assertMessage(refused("{\"name\": \"g\", \"runs\": [{\"name\": \"a\", \"sett\": {}}]}"), "unknown key 'sett'");
        assertMessage(refused("{\"name\": \"g\", \"vary\": {\"steps\": [1]}, \"seeds\": []}"), "\"seeds\" is empty");
        assertMessage(refused("{\"name\": \"g\", \"vary\": {\"steps\": [1]}, \"seeds\": [1.5]}"), "not an integer");
        assertMessage(refused("{\"name\": \"g\", \"vary\": {\"steps\": [1]}, \"seeds\": [1, 1]}"), "duplicate");
        assertMessage(refused("{\"vary\": {\"steps\": [1]}}"), "\"name\" must be a string");
        assertMessage(refused("{\"name\": \"g\", \"runs\": [{\"name\": \"a\", \"set\": {\"steps\": 1}}],"
                + " \"vary\": {\"steps\": [2]}}"), "run 'a' sets steps");
    }

    @Test
    void unknownFieldAndBadValueFailWhenBuildingWithTheRunName() {
        StudyGrid unknown = parse("{\"name\": \"g\", \"runs\": [{\"name\": \"a\", \"set\": {\"model.widht\": 32}}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> unknown.config(unknown.configs().get(0), 1));
        assertMessage(e, "run 'a'");
        assertMessage(e, "unknown config field 'model.widht'");
        assertMessage(e, "model.width");

        StudyGrid wrongType = parse("{\"name\": \"g\", \"vary\": {\"learning_rate\": [\"fast\"]}}");
        e = assertThrows(IllegalArgumentException.class, () -> wrongType.config(wrongType.configs().get(0), 1));
        assertMessage(e, "learning_rate=\"fast\"");

        StudyGrid zeroSteps = parse("{\"name\": \"g\", \"runs\": [{\"name\": \"z\", \"set\": {\"steps\": 0}}]}");
        e = assertThrows(IllegalArgumentException.class, () -> zeroSteps.config(zeroSteps.configs().get(0), 1));
        assertMessage(e, "steps=0");

        JsonObject badBase = JsonParser.parseString("{\"name\": \"g\", \"base\": {\"modle\": {}}, \"vary\": {\"steps\": [1]}}")
                .getAsJsonObject();
        StudyGrid grid = StudyGrid.parse(badBase, "test");
        e = assertThrows(IllegalArgumentException.class, () -> grid.config(grid.configs().get(0), 1));
        assertMessage(e, "'modle'");
    }

    @Test
    void unreadableFilesAreRefusedWithTheirName() throws IOException {
        Path missing = dir.resolve("missing.json");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> StudyGrid.read(missing)), missing.toString());
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"name\": ");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> StudyGrid.read(broken)), "not valid JSON");
    }

    private static void assertMessage(IllegalArgumentException e, String part) {
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
