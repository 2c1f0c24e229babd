package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void defaultsRoundTripThroughJson() {
        TrainConfig config = ConfigLoader.fromJson(ConfigLoader.toJson(TrainConfig.DEFAULT));
        assertEquals(TrainConfig.DEFAULT, config);
        assertNull(config.data());
    }

    @Test
    void fileThenFlagsOverrideDefaults() throws IOException {
        Path file = dir.resolve("c.json");
        Files.writeString(file, "{\"steps\": 7, \"model\": {\"width\": 64, \"heads\": 2}}");
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT).file(file).set("model.layers", "3")
                .set("steps", "9").set("data", "corpus.txt").build();
        assertEquals(9, config.steps());
        assertEquals(64, config.model().width());
        assertEquals(2, config.model().heads());
        assertEquals(3, config.model().layers());
        assertEquals("corpus.txt", config.data());
        assertEquals(TrainConfig.DEFAULT.learningRate(), config.learningRate());
    }

    @Test
    void jsonObjectAndJsonValuesAreCheckedLikeAFile() {
        JsonObject base = JsonParser.parseString("{\"steps\": 5, \"model\": {\"width\": 64, \"heads\": 2}}")
                .getAsJsonObject();
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT).merge(base)
                .set("learning_rate", new JsonPrimitive(0.01)).set("data", new JsonPrimitive("c.txt")).build();
        assertEquals(5, config.steps());
        assertEquals(64, config.model().width());
        assertEquals(0.01, config.learningRate());
        assertEquals("c.txt", config.data());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("model.width", new JsonPrimitive("wide")));
        assertTrue(e.getMessage().contains("model.width=\"wide\"") && e.getMessage().contains("a number"),
                e.getMessage());
        JsonObject unknown = JsonParser.parseString("{\"model\": {\"depth\": 3}}").getAsJsonObject();
        e = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader(TrainConfig.DEFAULT).merge(unknown));
        assertTrue(e.getMessage().contains("'model.depth'"), e.getMessage());
    }

    @Test
    void outOfRangeValueNamesFieldAndRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("steps", "0").build());
        assertTrue(e.getMessage().contains("steps=0") && e.getMessage().contains(">= 1"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("beta2", "1.5").build());
        assertTrue(e.getMessage().contains("beta2=1.5") && e.getMessage().contains("["), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("model.heads", "3").build());
        assertTrue(e.getMessage().contains("model.width=128") && e.getMessage().contains("model.heads=3"),
                e.getMessage());
    }

    @Test
    void integerFieldsRefuseFractionsAndValuesOutOfTheirRange() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("steps", "2.5"));
        assertTrue(e.getMessage().contains("steps=2.5") && e.getMessage().contains("whole number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader(TrainConfig.DEFAULT).set("steps", "1e10"));
        assertTrue(e.getMessage().contains("steps=10000000000") && e.getMessage().contains("2147483647"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.experts", "8.5"));
        assertTrue(e.getMessage().contains("model.moe.experts=8.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("seed", "1e19"));
        assertTrue(e.getMessage().contains("seed=") && e.getMessage().contains("9223372036854775807"), e.getMessage());

        Path file = dir.resolve("fraction.json");
        Files.writeString(file, "{\"model\": {\"layers\": 2.5}}");
        e = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader(TrainConfig.DEFAULT).file(file));
        assertTrue(e.getMessage().contains("model.layers=2.5"), e.getMessage());

        TrainConfig whole = new ConfigLoader(TrainConfig.DEFAULT).set("steps", "2.0").set("seed", "1e3")
                .set("learning_rate", "2.5e-3").build();
        assertEquals(2, whole.steps());
        assertEquals(1000L, whole.seed());
        assertEquals(2.5e-3, whole.learningRate());
    }

    @Test
    void unknownFieldIsRejectedWithKnownFields() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("stepz", "3"));
        assertTrue(e.getMessage().contains("'stepz'") && e.getMessage().contains("steps"), e.getMessage());

        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"model\": {\"depth\": 3}}");
        e = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader(TrainConfig.DEFAULT).file(file));
        assertTrue(e.getMessage().contains("'model.depth'") && e.getMessage().contains("model.layers"),
                e.getMessage());
    }

    @Test
    void wrongTypeAndBadJsonAreRejected() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(TrainConfig.DEFAULT).set("steps", "many").build());
        assertTrue(e.getMessage().contains("steps"), e.getMessage());

        Path file = dir.resolve("broken.json");
        Files.writeString(file, "{\"steps\": ");
        e = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader(TrainConfig.DEFAULT).file(file));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void unknownDeviceNamesAllowedValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu"));
        assertTrue(e.getMessage().contains("device=tpu") && e.getMessage().contains("jvm"), e.getMessage());
    }
}
