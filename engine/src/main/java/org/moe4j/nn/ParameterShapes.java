package org.moe4j.nn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.moe4j.moe.Experts;
import org.moe4j.moe.MoeConfig;

/**
 * The parameters a config makes, by name and shape, without building them: the names and order of
 * {@link GptModel#parameters()}, a routed expert tensor with all E experts along dimension 0
 * ({@link #onRank} gives a rank's {@code E/ep}). Known for the built-in experts ({@code gelu},
 * {@code swiglu}); a custom expert's shapes are known only once it is built.
 *
 * <p>Every tensor is one Java float array, so none may hold more than {@link #ARRAY_LIMIT}
 * elements; {@link #checkArrayLimit} refuses such a config before anything is allocated.
 */
public final class ParameterShapes {
    /** The most elements a Java array holds, {@code 2^31 − 1}. */
    public static final long ARRAY_LIMIT = Integer.MAX_VALUE;
    /** What the name of a routed expert's parameter contains ({@code blocks.0.ffn.experts.up.weight}). */
    public static final String ROUTED_EXPERTS = ".ffn.experts.";

    private ParameterShapes() {
    }

    /** Whether the shapes of {@code config}'s parameters are known without building it (built-in experts). */
    public static boolean known(ModelConfig config) {
        return config.moe() == null || isBuiltIn(config.moe().expert());
    }

    /**
     * Every parameter's shape, in {@link GptModel#parameters()} order.
     *
     * @throws IllegalArgumentException for a custom expert, whose shapes only its class knows
     */
    public static Map<String, long[]> of(ModelConfig config) {
        if (!known(config)) {
            throw new IllegalArgumentException("the parameter shapes of moe.expert=" + config.moe().expert()
                    + " are known only once it is built: plans and checks know the built-in experts "
                    + Experts.GELU + " and " + Experts.SWIGLU);
        }
        long d = config.width();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("token_embedding", new long[] {config.vocabSize(), d});
        shapes.put("position_embedding", new long[] {config.contextSize(), d});
        for (int i = 0; i < config.layers(); i++) {
            String block = "blocks." + i + ".";
            shapes.put(block + "attn_norm.weight", new long[] {d});
            shapes.put(block + "attn.qkv.weight", new long[] {d, 3 * d});
            shapes.put(block + "attn.qkv.bias", new long[] {3 * d});
            shapes.put(block + "attn.proj.weight", new long[] {d, d});
            shapes.put(block + "attn.proj.bias", new long[] {d});
            shapes.put(block + "ffn_norm.weight", new long[] {d});
            if (config.isMoeBlock(i)) {
                MoeConfig moe = config.moe();
                shapes.put(block + "ffn.router.weight", new long[] {d, moe.experts()});
                experts(shapes, block + "ffn.experts.", moe.expert(), moe.experts(), d, moe.hidden());
                if (moe.sharedExperts() > 0) {
                    experts(shapes, block + "ffn.shared.", moe.expert(), moe.sharedExperts(), d, moe.hidden());
                }
            } else {
                shapes.put(block + "ffn.up.weight", new long[] {d, config.hidden()});
                shapes.put(block + "ffn.up.bias", new long[] {config.hidden()});
                shapes.put(block + "ffn.down.weight", new long[] {config.hidden(), d});
                shapes.put(block + "ffn.down.bias", new long[] {d});
            }
        }
        shapes.put("final_norm.weight", new long[] {d});
        shapes.put("head.weight", new long[] {d, config.vocabSize()});
        shapes.put("head.bias", new long[] {config.vocabSize()});
        return shapes;
    }

    /** The shapes one rank holds when the routed experts are sharded over {@code ep} ranks: {@code (E/ep, ...)}. */
    public static Map<String, long[]> onRank(ModelConfig config, int ep) {
        Map<String, long[]> shapes = of(config);
        shapes.replaceAll((name, shape) -> {
            long[] local = shape.clone();
            if (name.contains(ROUTED_EXPERTS)) {
                local[0] /= ep;
            }
            return local;
        });
        return shapes;
    }

    /** The elements of a shape. */
    public static long elements(long[] shape) {
        long n = 1;
        for (long extent : shape) {
            n = Math.multiplyExact(n, extent);
        }
        return n;
    }

    /** Sizes by name, for {@link org.moe4j.moe.ParameterCounts#of}. */
    public static Map<String, Long> sizes(Map<String, long[]> shapes) {
        Map<String, Long> sizes = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> sizes.put(name, elements(shape)));
        return sizes;
    }

    /**
     * Refuses a config with a parameter over the array limit, naming it, its elements and what to
     * change. Custom experts are not checked here (their own constructor allocates them).
     *
     * @param ep ranks the routed experts are sharded over: a rank holds {@code (E/ep, ...)} of each
     */
    public static void checkArrayLimit(ModelConfig config, int ep) {
        if (!known(config)) {
            return;
        }
        onRank(config, ep).forEach((name, shape) -> {
            long n = elements(shape);
            if (n > ARRAY_LIMIT) {
                throw new IllegalArgumentException("parameter " + name + " " + Arrays.toString(shape) + " would hold "
                        + String.format(java.util.Locale.ROOT, "%,d", n) + " elements, over Java's array limit of 2^31-1 = "
                        + String.format(java.util.Locale.ROOT, "%,d", ARRAY_LIMIT) + ": every tensor is one float array; "
                        + remedy(name));
            }
        });
    }

    private static String remedy(String name) {
        if (name.contains(ROUTED_EXPERTS)) {
            return "shard the experts over more ranks (parallel.ep; a rank holds E/ep of them), or make moe.experts"
                    + " x model.width x moe.hidden smaller";
        }
        if (name.contains(".ffn.shared.")) {
            return "make moe.shared_experts x model.width x moe.hidden smaller";
        }
        if (name.endsWith("embedding") || name.startsWith("head.")) {
            return "make model.vocab_size (or model.context_size) x model.width smaller";
        }
        return "make model.width or model.hidden smaller";
    }

    private static void experts(Map<String, long[]> shapes, String prefix, String expert, long e, long d, long f) {
        if (expert.equals(Experts.GELU)) {
            shapes.put(prefix + "up.weight", new long[] {e, d, f});
            shapes.put(prefix + "up.bias", new long[] {e, f});
            shapes.put(prefix + "down.weight", new long[] {e, f, d});
            shapes.put(prefix + "down.bias", new long[] {e, d});
        } else {
            shapes.put(prefix + "gate.weight", new long[] {e, d, f});
            shapes.put(prefix + "up.weight", new long[] {e, d, f});
            shapes.put(prefix + "down.weight", new long[] {e, f, d});
        }
    }

    private static boolean isBuiltIn(String expert) {
        return expert.equals(Experts.GELU) || expert.equals(Experts.SWIGLU);
    }
}
