package org.moe4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.moe4j.moe.ExpertParallel;
import org.moe4j.moe.MoeLayer;
import org.moe4j.random.SplitMix64;
import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;
import org.moe4j.tensor.ops.CrossEntropy;
import org.moe4j.tensor.ops.Elementwise;
import org.moe4j.tensor.ops.Embedding;

/**
 * A GPT-style decoder: token and position embeddings, pre-norm transformer blocks, a final
 * RMSNorm and a linear head to vocabulary logits. Initialisation follows GPT-2: N(0, 0.02), with
 * projections into the residual stream scaled by {@code 1/sqrt(2·layers)}.
 */
public final class GptModel implements Module {
    private static final float INIT_STD = 0.02f;

    private final ModelConfig config;
    private final Device device;
    private final Tensor tokenEmbedding;
    private final Tensor positionEmbedding;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final RmsNormLayer finalNorm;
    private final LinearLayer head;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    /** Whether training passes recompute each block's forward in the backward pass. */
    private boolean recompute;

    /**
     * Builds the model {@code config} describes (dense MLPs, or MoE layers where {@code model.moe}
     * puts them), initialised from {@code seed}.
     */
    public GptModel(ModelConfig config, Device device, long seed) {
        this(config, device, seed, null);
    }

    /**
     * As {@link #GptModel(ModelConfig, Device, long)}, with the MoE layers' experts sharded over
     * {@code parallel}'s ranks (null: all experts here). Every rank's parameters equal the single
     * process model's of the same seed (its slice of them, for the experts).
     *
     * @throws IllegalArgumentException before allocating anything, if a parameter would hold more
     *                                  elements than a Java array can ({@link ParameterShapes#checkArrayLimit})
     */
    public GptModel(ModelConfig config, Device device, long seed, ExpertParallel parallel) {
        ParameterShapes.checkArrayLimit(config, parallel == null || parallel.worldSize() == 1 ? 1 : parallel.expertRanks());
        this(config, new LayerContext(device, new SplitMix64(seed)), FeedForwardFactory.of(config, parallel));
    }

    /** Builds a model whose blocks take their feed-forward from {@code feedForwards}. */
    public GptModel(ModelConfig config, LayerContext layer, FeedForwardFactory feedForwards) {
        this.config = config;
        this.device = layer.device();
        float residualStd = (float) (INIT_STD / Math.sqrt(2.0 * config.layers()));
        this.tokenEmbedding = Init.normal(layer, INIT_STD, config.vocabSize(), config.width());
        this.positionEmbedding = Init.normal(layer, INIT_STD, config.contextSize(), config.width());
        for (int i = 0; i < config.layers(); i++) {
            FeedForward feedForward = feedForwards.create(i, layer, INIT_STD, residualStd);
            blocks.add(new TransformerBlock(layer, config.width(), config.heads(), INIT_STD, residualStd, feedForward));
        }
        this.finalNorm = new RmsNormLayer(layer, config.width());
        this.head = new LinearLayer(layer, config.width(), config.vocabSize(), true, INIT_STD);
        collectParameters("", parameters);
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Activation recomputation ({@code recompute} in the training config): with it, a training pass
     * keeps only each block's input for the backward pass and runs the block's forward again when
     * the backward pass reaches it ({@link Tape#recompute}), with the same routing and noise. The
     * gradients are the same bits either way; the memory of the activations falls from every
     * block's to one block's, at the cost of a second forward of every block.
     */
    public void setRecompute(boolean recompute) {
        this.recompute = recompute;
    }

    /** Whether training passes recompute each block's forward ({@link #setRecompute}). */
    public boolean recomputes() {
        return recompute;
    }

    /** The device the parameters live on. */
    public Device device() {
        return device;
    }

    /** Parameters by name, in checkpoint order. */
    public Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public List<TransformerBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }

    /** The MoE layers, in block order (empty for a dense model). */
    public List<MoeLayer> moeLayers() {
        List<MoeLayer> layers = new ArrayList<>();
        for (TransformerBlock block : blocks) {
            if (block.feedForward() instanceof MoeLayer moe) {
                layers.add(moe);
            }
        }
        return layers;
    }

    /**
     * Tensors of the model that are not parameters (no gradient, no optimizer state) but are part
     * of its state: the balance bias of every MoE layer with bias balancing, {@code blocks.1.ffn.balance_bias}.
     */
    public Map<String, Tensor> buffers() {
        Map<String, Tensor> buffers = new LinkedHashMap<>();
        for (int i = 0; i < blocks.size(); i++) {
            if (blocks.get(i).feedForward() instanceof MoeLayer moe && moe.balanceBias() != null) {
                buffers.put(moeLayerName(i) + ".balance_bias", moe.balanceBias());
            }
        }
        return buffers;
    }

    /** The router jitter's stream state of every MoE layer, by the layer's parameter prefix ({@code blocks.1.ffn}). */
    public Map<String, Long> jitterStates() {
        Map<String, Long> states = new LinkedHashMap<>();
        for (int i = 0; i < blocks.size(); i++) {
            if (blocks.get(i).feedForward() instanceof MoeLayer moe) {
                states.put(moeLayerName(i), moe.jitterNoise().state());
            }
        }
        return states;
    }

    /** Continues each MoE layer's jitter stream from {@link #jitterStates()}; layers not named keep theirs. */
    public void restoreJitterStates(Map<String, Long> states) {
        for (int i = 0; i < blocks.size(); i++) {
            Long state = states.get(moeLayerName(i));
            if (state != null && blocks.get(i).feedForward() instanceof MoeLayer moe) {
                moe.jitterNoise().setState(state);
            }
        }
    }

    private static String moeLayerName(int block) {
        return "blocks." + block + ".ffn";
    }

    /**
     * Names of the parameters that belong to experts (sharded under expert parallelism, and never
     * averaged over ranks), in parameter order.
     */
    public Set<String> expertParameterNames() {
        Set<Tensor> expertTensors = Collections.newSetFromMap(new IdentityHashMap<>());
        for (MoeLayer layer : moeLayers()) {
            Map<String, Tensor> map = new LinkedHashMap<>();
            layer.experts().collectParameters("", map);
            expertTensors.addAll(map.values());
        }
        Set<String> names = new LinkedHashSet<>();
        parameters.forEach((name, p) -> {
            if (expertTensors.contains(p)) {
                names.add(name);
            }
        });
        return names;
    }

    /**
     * Next-token logits.
     *
     * @param tokens (B,T) token ids, row-major; <em>not modified</em>
     * @return logits (B,T,V)
     */
    public Tensor forward(Tape tape, int[] tokens, int batch, int length) {
        if (length > config.contextSize()) {
            throw new IllegalArgumentException("sequence length " + length + " exceeds model.context_size="
                    + config.contextSize());
        }
        if (tokens.length != batch * length) {
            throw new IllegalArgumentException("expected " + batch + "x" + length + " tokens, got " + tokens.length);
        }
        int[] positions = new int[tokens.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i % length;
        }
        Tensor x = Elementwise.add(tape,
                Embedding.lookup(tape, tokenEmbedding, tokens, batch, length),
                Embedding.lookup(tape, positionEmbedding, positions, batch, length));
        for (TransformerBlock block : blocks) {
            x = recompute ? tape.recompute(x, block::forward) : block.forward(tape, x);
        }
        return head.forward(tape, finalNorm.forward(tape, x));
    }

    /** Mean next-token cross-entropy of {@code tokens} predicting {@code targets}, both (B,T). */
    public Tensor loss(Tape tape, int[] tokens, int[] targets, int batch, int length) {
        Tensor logits = forward(tape, tokens, batch, length);
        return CrossEntropy.meanLoss(tape, logits.view(batch * length, config.vocabSize()), targets);
    }

    @Override
    public void collectParameters(String prefix, Map<String, Tensor> into) {
        into.put(prefix + "token_embedding", tokenEmbedding);
        into.put(prefix + "position_embedding", positionEmbedding);
        for (int i = 0; i < blocks.size(); i++) {
            blocks.get(i).collectParameters(prefix + "blocks." + i + ".", into);
        }
        finalNorm.collectParameters(prefix + "final_norm.", into);
        head.collectParameters(prefix + "head.", into);
    }
}
