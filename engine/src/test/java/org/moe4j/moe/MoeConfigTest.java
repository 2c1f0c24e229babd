package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.TrainConfig;

/** Config errors name the field, the value and what is allowed; {@code moe.*} works from JSON and {@code --set}. */
class MoeConfigTest {

    @TempDir
    Path dir;

    @Test
    void expertsNotDivisibleByKIsRefusedForPrototyping() {
        String message = error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.experts", "6").set("moe.k", "4")
                .build());
        assertEquals("moe.experts=6 is not divisible by moe.k=4 (prototype routing splits experts into k groups)",
                message);
    }

    @Test
    void kLargerThanExpertsIsRefused() {
        String message = error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.router", "topk")
                .set("moe.experts", "2").set("moe.k", "3").build());
        assertTrue(message.contains("moe.k=3 exceeds moe.experts=2"), message);
    }

    @Test
    void unknownRouterIsRefusedWithTheAllowedNames() {
        String message = error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.router", "top2").build());
        assertEquals("moe.router=top2 is not allowed: must be one of [topk, prototype, switch, expert_choice]",
                message);
    }

    @Test
    void unknownExpertClassIsRefusedClearly() {
        String message = error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.expert", "com.example.NoSuch")
                .build());
        assertTrue(message.startsWith("moe.expert=com.example.NoSuch is not allowed"), message);
        assertTrue(message.contains("no class com.example.NoSuch was found"), message);
        message = error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.expert", "java.lang.String").build());
        assertTrue(message.contains("does not implement org.moe4j.moe.Expert"), message);
    }

    @Test
    void rangesAreChecked() {
        assertTrue(error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.capacity_factor", "-1").build())
                .startsWith("moe.capacity_factor=-1.0 is out of range: must be > 0, or 0 for dropless routing"));
        assertTrue(error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.jitter", "1").build())
                .startsWith("moe.jitter=1.0 is out of range"));
        assertTrue(error(() -> new ConfigLoader(TrainConfig.DEFAULT).set("moe.every", "0").build())
                .startsWith("moe.every=0 is out of range"));
    }

    @Test
    void theRoutingOfCurrentModelsIsValidatedWithTheFieldAndWhatIsAllowed() {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("moe.gate=tanh", "moe.gate=tanh is not allowed: must be one of [softmax, sigmoid]");
        refused.put("moe.balance=loss", "moe.balance=loss is not allowed: must be one of [aux_loss, bias]");
        refused.put("moe.aux_scope=token", "moe.aux_scope=token is not allowed: must be one of [batch, sequence]");
        refused.put("moe.shared_experts=-1", "moe.shared_experts=-1 is out of range");
        refused.put("moe.gate=sigmoid", "moe.gate=sigmoid is defined for moe.router=topk or switch, not prototype");
        refused.put("moe.router=expert_choice moe.balance=bias", "moe.balance=bias is not defined for moe.router=expert_choice");
        refused.put("moe.router=expert_choice moe.aux_scope=sequence", "moe.aux_scope=sequence is not defined");
        refused.put("moe.router=expert_choice moe.capacity_factor=0", "moe.capacity_factor=0 (dropless) is not defined");
        refused.put("moe.router=topk moe.gate=sigmoid moe.renormalize=true", "moe.renormalize=true does not apply");
        refused.put("moe.route_groups=3", "moe.route_groups=3 is defined for moe.router=topk or switch");
        refused.put("moe.router=topk moe.route_groups=3", "moe.experts=8 is not divisible by moe.route_groups=3");
        refused.put("moe.router=topk moe.route_groups=4 moe.top_groups=5", "moe.top_groups=5 is out of range");
        refused.put("moe.router=topk moe.k=4 moe.route_groups=4 moe.top_groups=1", "moe.k=4 exceeds the 2 experts");
        refused.put("moe.bias_update_rate=2", "moe.bias_update_rate=2.0 is out of range");
        refused.forEach((sets, expected) -> {
            String message = error(() -> {
                ConfigLoader loader = new ConfigLoader(TrainConfig.DEFAULT);
                for (String set : sets.split(" ")) {
                    loader.set(set.substring(0, set.indexOf('=')), set.substring(set.indexOf('=') + 1));
                }
                loader.build();
            });
            assertTrue(message.contains(expected), sets + ": " + message);
        });
        MoeConfig modern = new ConfigLoader(TrainConfig.DEFAULT).set("moe.router", "topk").set("moe.k", "2")
                .set("moe.gate", "sigmoid").set("moe.balance", "bias").set("moe.shared_experts", "1")
                .set("moe.aux_scope", "sequence").set("moe.capacity_factor", "0").set("moe.route_groups", "4")
                .set("moe.top_groups", "2").build().model().moe();
        assertEquals(List.of("sigmoid", "bias", "sequence"), List.of(modern.gate(), modern.balance(), modern.auxScope()));
        assertEquals(List.of(1, 4, 2), List.of(modern.sharedExperts(), modern.routeGroups(), modern.topGroups()));
    }

    @Test
    void shortAndLongNamesAndFilesAllSetTheModelsMoe() throws IOException {
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT).set("moe.experts", "16")
                .set("model.moe.router", "topk").build();
        assertEquals(16, config.model().moe().experts());
        assertEquals("topk", config.model().moe().router());

        Path file = dir.resolve("c.json");
        Files.writeString(file, "{\"moe\": {\"k\": 1, \"router\": \"switch\"}, \"model\": {\"layers\": 2}}");
        config = new ConfigLoader(TrainConfig.DEFAULT).file(file).build();
        assertEquals(1, config.model().moe().k());
        assertEquals(MoeConfig.DEFAULT.experts(), config.model().moe().experts());
        assertEquals(2, config.model().layers());
    }

    @Test
    void nullMoeIsADenseModelAndSurvivesTheRoundTrip() throws IOException {
        TrainConfig dense = new ConfigLoader(TrainConfig.DEFAULT).set("model.moe", "null").build();
        assertNull(dense.model().moe());
        assertEquals(dense, ConfigLoader.fromJson(ConfigLoader.toJson(dense)));
        assertEquals(TrainConfig.DEFAULT, ConfigLoader.fromJson(ConfigLoader.toJson(TrainConfig.DEFAULT)));
        // Setting a field of a null moe starts from the defaults.
        TrainConfig again = new ConfigLoader(dense).set("moe.experts", "4").build();
        assertEquals(4, again.model().moe().experts());
        assertEquals(MoeConfig.DEFAULT.router(), again.model().moe().router());
        // A written config from before MoE existed (no model.moe) is dense.
        String old = ConfigLoader.toJson(dense).replace("\"moe\": null", "\"hidden2\": 0")
                .replace(",\n    \"hidden2\": 0", "");
        assertNull(ConfigLoader.fromJson(old).model().moe());
        Path file = dir.resolve("moe.json");
        Files.writeString(file, "{\"model\": {\"moe\": {\"experts\": 4}}}");
        assertEquals(4, new ConfigLoader(dense).file(file).build().model().moe().experts());
    }

    @Test
    void moeBlocksFollowEvery() {
        MoeConfig every2 = new MoeConfig("topk", 4, 1, 1, 1, false, 0, 0, 0, "gelu", 8, 2);
        assertTrue(!every2.isMoeBlock(0) && every2.isMoeBlock(1) && !every2.isMoeBlock(2) && every2.isMoeBlock(3));
        assertTrue(MoeConfig.DEFAULT.isMoeBlock(0));
    }

    private static String error(org.junit.jupiter.api.function.Executable build) {
        return assertThrows(IllegalArgumentException.class, build).getMessage();
    }
}
