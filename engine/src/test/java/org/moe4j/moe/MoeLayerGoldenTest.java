package org.moe4j.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.moe4j.testing.Close.assertClose;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.GemmSimd;
import org.moe4j.nn.LayerContext;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.train.checkpoint.Safetensors;
import org.moe4j.train.checkpoint.SafetensorsFile;
import org.moe4j.train.checkpoint.TensorEntry;

/**
 * The MoE layer against golden fixtures of the PyTorch reference
 * ({@code benchmarks/reference/moe_reference.py}, the definition in {@code docs/moe.md}).
 *
 * <p>Each fixture in {@code golden/moe/} holds a layer config, the input {@code x (N,D)}, every
 * parameter, a random output gradient {@code grad_y (N,D)}, the outputs {@code y}, {@code aux},
 * {@code z}, and the gradients {@code grad.x}, {@code grad.<parameter>} of
 * {@code L = sum(y * grad_y) + aux_loss_coef * aux + z_loss_coef * z}, all float32, from a
 * training pass without jitter. Inputs keep every routing decision at least 1e-4 in probability
 * away from a tie, so float rounding cannot change which experts are chosen.
 */
class MoeLayerGoldenTest {
    private static final String FOLDER = "/golden/moe";
    private static final String VERSION_KEY = "moe4j.golden.version";
    private static final String VERSION = "1";
    private static final String REGENERATE = "regenerate them with /usr/bin/python3 benchmarks/reference/moe_reference.py"
            + " (a python3 with torch)";

    // |a - r| <= atol + rtol * |r|, per tensor. Values are O(1)-O(20); float32 sums of at most
    // a few hundred terms in a different order than PyTorch's.
    private static final double OUTPUT_ATOL = 1e-5;
    private static final double OUTPUT_RTOL = 1e-4;
    private static final double LOSS_ATOL = 1e-6;
    private static final double LOSS_RTOL = 1e-5;
    private static final double GRAD_ATOL = 3e-5;
    private static final double GRAD_RTOL = 3e-4;

    /** Tensors of a fixture that are not parameters (routing info and the objective's pieces). */
    private static final Set<String> NOT_PARAMETERS =
            Set.of("x", "grad_y", "y", "aux", "z", "expert_index", "kept", "expert_tokens", "balance_bias");

    static Stream<Path> fixtures() throws IOException {
        return listFixtures().stream();
    }

    private static List<Path> listFixtures() throws IOException {
        URL url = MoeLayerGoldenTest.class.getResource(FOLDER);
        assertNotNull(url, "no test resource folder " + FOLDER + ": the golden fixtures are missing; " + REGENERATE);
        Path dir;
        try {
            dir = Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(url + " is not a file path", e);
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void layerMatchesThePyTorchReference(Path path) throws IOException {
        Fixture f = Fixture.read(path);
        MoeConfig config = f.config();
        int[] xShape = f.shape("x"); // (N,D), or (B,T,D) for the sequence-wise loss
        int d = xShape[xShape.length - 1];
        int n = f.floats("x").length / d;
        assertEquals(f.width(), d, f.name + ": config width against x");

        JvmDevice device = new JvmDevice(2, false);
        GemmSimd.registerOn(device);
        MoeLayer layer = new MoeLayer(config, d, new LayerContext(device, new SplitMix64(f.seed())));
        Map<String, Tensor> params = new LinkedHashMap<>();
        layer.collectParameters("", params);
        assertEquals(f.parameterNames(), new TreeSet<>(params.keySet()),
                f.name + ": parameter names of the layer against the fixture (docs/moe.md)");
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            TensorEntry ref = f.tensor(e.getKey());
            Tensor p = e.getValue();
            assertArrayEquals(ref.shape(), p.shape(), f.name + ": shape of " + e.getKey());
            System.arraycopy(ref.floats(), 0, p.data(), 0, p.size());
            p.toDevice();
        }
        if (f.file.tensors().containsKey("balance_bias")) {
            System.arraycopy(f.floats("balance_bias"), 0, layer.balanceBias().data(), 0, config.experts());
            layer.balanceBias().toDevice();
        }

        Tape tape = Tape.training(device);
        Tensor x = Tensor.of(device, true, f.floats("x"), xShape);
        Tensor y = layer.forward(tape, x);
        assertArrayEquals(xShape, y.shape(), f.name + ": shape of y");
        float[] yValues = y.toHost().data().clone();
        tape.backward(y, f.floats("grad_y"));

        assertClose(f.name + " y", f.floats("y"), yValues, OUTPUT_ATOL, OUTPUT_RTOL);
        checkAddedLosses(f, tape.losses());
        assertClose(f.name + " grad.x", f.floats("grad.x"), gradient(device, x), GRAD_ATOL, GRAD_RTOL);
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            String name = "grad." + e.getKey();
            assertClose(f.name + " " + name, f.floats(name), gradient(device, e.getValue()), GRAD_ATOL, GRAD_RTOL);
        }
    }

    /** aux and z as added to the tape, each with its coefficient as weight. */
    private static void checkAddedLosses(Fixture f, List<Tape.WeightedLoss> losses) {
        float auxCoef = (float) number(f, f.configJson(), "aux_loss_coef");
        float zCoef = (float) number(f, f.configJson(), "z_loss_coef");
        Map<String, Tape.WeightedLoss> byName = new LinkedHashMap<>();
        for (Tape.WeightedLoss loss : losses) {
            if (byName.put(loss.name(), loss) != null) {
                fail(f.name + ": the layer added loss " + loss.name() + " twice");
            }
        }
        float auxRef = f.floats("aux")[0];
        float zRef = f.floats("z")[0];
        Tape.WeightedLoss aux = byName.get("aux_loss");
        if (aux == null) {
            // Expert choice has no load-balancing loss (aux = 0): a layer may leave it out.
            assertEquals(0f, auxRef, f.name + ": the layer added no aux_loss but the reference aux is " + auxRef
                    + "; losses added: " + byName.keySet());
        } else {
            assertEquals(auxCoef, aux.weight(), f.name + ": weight of aux_loss");
            assertClose(f.name + " aux", new float[] {auxRef}, value(aux.loss()), LOSS_ATOL, LOSS_RTOL);
        }
        Tape.WeightedLoss z = byName.get("z_loss");
        assertNotNull(z, f.name + ": the layer added no z_loss although z_loss_coef = " + zCoef
                + "; losses added: " + byName.keySet());
        assertEquals(zCoef, z.weight(), f.name + ": weight of z_loss");
        assertClose(f.name + " z", new float[] {zRef}, value(z.loss()), LOSS_ATOL, LOSS_RTOL);
    }

    /**
     * Deleting or breaking fixtures must not make the golden test vacuous: every router family
     * and option is covered, with drops, without drops, and with an idle expert.
     */
    @Test
    void fixturesCoverEveryRouterAndDropping() throws IOException {
        List<Fixture> all = new ArrayList<>();
        for (Path path : listFixtures()) {
            all.add(Fixture.read(path));
        }
        Set<String> covered = new TreeSet<>();
        for (Fixture f : all) {
            JsonObject c = f.configJson;
            String router = string(f, c, "router");
            covered.add(router);
            if (router.equals("topk")) {
                covered.add("topk k=" + integer(f, c, "k"));
                covered.add("topk renormalize=" + c.get("renormalize").getAsBoolean());
            }
            if (router.equals("prototype")) {
                covered.add("prototype k=" + (integer(f, c, "k") == 1 ? "1" : ">1"));
            }
            covered.add("expert " + string(f, c, "expert"));
            int dropped = f.droppedAssignments();
            covered.add(dropped > 0 ? router + " with drops" : router + " without drops");
            if (f.hasIdleExpert()) {
                covered.add("an expert with no token");
            }
            covered.add("shared experts " + (optional(c, "shared_experts", 0) > 0));
            covered.add("gate " + optionalString(c, "gate", "softmax"));
            covered.add("balance " + optionalString(c, "balance", "aux_loss"));
            covered.add(router + " aux_scope " + optionalString(c, "aux_scope", "batch"));
            covered.add("dropless " + (number(f, c, "capacity_factor") == 0));
            covered.add("route_groups " + (optional(c, "route_groups", 1) > 1));

        }
        List<String> required = List.of("topk", "prototype", "expert_choice", "topk k=1", "topk k=2",
                "topk renormalize=true", "topk renormalize=false", "prototype k=1", "prototype k=>1",
                "expert gelu", "expert swiglu", "topk with drops", "topk without drops", "prototype with drops",
                "expert_choice with drops", "an expert with no token", "shared experts true", "gate sigmoid",
                "balance bias", "topk aux_scope sequence", "prototype aux_scope sequence", "dropless true",
                "route_groups true");
        List<String> missing = required.stream().filter(r -> !covered.contains(r)).toList();
        assertTrue(missing.isEmpty(), "golden fixtures do not cover " + missing + " (covered: " + covered + "); "
                + REGENERATE);
    }

    // ------------------------------------------------------------------------------------------

    /** A fixture file with its parsed config. */
    private record Fixture(String name, SafetensorsFile file, JsonObject configJson) {

        static Fixture read(Path path) throws IOException {
            String name = path.getFileName().toString();
            SafetensorsFile file = Safetensors.read(path);
            String version = file.metadata().get(VERSION_KEY);
            if (!VERSION.equals(version)) {
                fail(name + ": golden fixture version is " + (version == null ? "missing" : "\"" + version + "\"")
                        + ", this test reads version " + VERSION + "; " + REGENERATE);
            }
            String json = file.metadata().get("config");
            assertNotNull(json, name + ": no config metadata; " + REGENERATE);
            return new Fixture(name, file, JsonParser.parseString(json).getAsJsonObject());
        }

        /** The layer's config; fixtures written before the routing of current models lack its fields (their defaults). */
        MoeConfig config() {
            JsonObject c = configJson;
            return new MoeConfig(string(this, c, "router"), integer(this, c, "experts"), integer(this, c, "k"),
                    number(this, c, "capacity_factor"), number(this, c, "eval_capacity_factor"),
                    field(this, c, "renormalize").getAsBoolean(), number(this, c, "aux_loss_coef"),
                    number(this, c, "z_loss_coef"), number(this, c, "jitter"), string(this, c, "expert"),
                    integer(this, c, "hidden"), integer(this, c, "every"), optional(c, "shared_experts", 0),
                    optionalString(c, "gate", "softmax"), optionalString(c, "balance", "aux_loss"),
                    c.has("bias_update_rate") ? c.get("bias_update_rate").getAsDouble()
                            : MoeConfig.DEFAULT_BIAS_UPDATE_RATE, optionalString(c, "aux_scope", "batch"),
                    optional(c, "route_groups", 1), optional(c, "top_groups", 1));
        }

        int width() {
            return integer(this, configJson, "width");
        }

        long seed() {
            String seed = file.metadata().get("seed");
            return seed == null ? 1 : Long.parseLong(seed);
        }

        TensorEntry tensor(String tensor) {
            TensorEntry t = file.tensors().get(tensor);
            assertNotNull(t, name + ": no tensor \"" + tensor + "\"; it holds " + file.tensors().keySet());
            return t;
        }

        float[] floats(String tensor) {
            return tensor(tensor).floats();
        }

        int[] shape(String tensor) {
            return tensor(tensor).shape();
        }

        /** Names of the parameters the fixture holds: the tensors it has a gradient for, but x. */
        Set<String> parameterNames() {
            Set<String> names = file.tensors().keySet().stream().filter(s -> s.startsWith("grad."))
                    .map(s -> s.substring("grad.".length())).filter(s -> !s.equals("x"))
                    .collect(Collectors.toCollection(TreeSet::new));
            for (String p : names) {
                assertFalse(NOT_PARAMETERS.contains(p), name + ": " + p + " is not a parameter");
                tensor(p);
            }
            return names;
        }

        /** Dropped assignments (top-k, prototype) or tokens that no expert took (expert choice). */
        int droppedAssignments() {
            if (file.tensors().containsKey("kept")) {
                return (int) Arrays.stream(tensor("kept").ints()).filter(k -> k == 0).count();
            }
            int n = shape("x")[0];
            boolean[] taken = new boolean[n];
            for (int t : tensor("expert_tokens").ints()) {
                taken[t] = true;
            }
            int none = 0;
            for (boolean b : taken) {
                none += b ? 0 : 1;
            }
            return none;
        }

        /** Whether some expert processes no token at all. */
        boolean hasIdleExpert() {
            int experts = integer(this, configJson, "experts");
            int[] load = new int[experts];
            if (file.tensors().containsKey("kept")) {
                int[] index = tensor("expert_index").ints();
                int[] kept = tensor("kept").ints();
                for (int i = 0; i < index.length; i++) {
                    load[index[i]] += kept[i];
                }
            } else {
                int[] shape = shape("expert_tokens");
                for (int e = 0; e < experts; e++) {
                    load[e] = shape[1];
                }
            }
            return Arrays.stream(load).anyMatch(l -> l == 0);
        }
    }

    private static JsonElement field(Fixture f, JsonObject c, String key) {
        JsonElement e = c.get(key);
        assertNotNull(e, f.name + ": config has no \"" + key + "\": " + c + "; " + REGENERATE);
        return e;
    }

    private static int optional(JsonObject c, String key, int absent) {
        return c.has(key) ? c.get(key).getAsInt() : absent;
    }

    private static String optionalString(JsonObject c, String key, String absent) {
        return c.has(key) ? c.get(key).getAsString() : absent;
    }

    private static String string(Fixture f, JsonObject c, String key) {
        return field(f, c, key).getAsString();
    }

    private static int integer(Fixture f, JsonObject c, String key) {
        return field(f, c, key).getAsInt();
    }

    private static double number(Fixture f, JsonObject c, String key) {
        return field(f, c, key).getAsDouble();
    }

    private static float[] gradient(JvmDevice device, Tensor t) {
        if (!t.hasGrad()) {
            return new float[t.size()]; // nothing flowed into it: zero
        }
        device.copyToHost(t.grad());
        return t.grad();
    }

    private static float[] value(Tensor scalar) {
        assertEquals(1, scalar.size(), "an added loss must be a scalar");
        return scalar.toHost().data();
    }
}
