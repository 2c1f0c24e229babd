package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.moe.MoeConfig;
import org.moe4j.nn.ModelConfig;
import org.moe4j.tensor.Tensor;

/** 6·N + 12·L·T·D, N the multiplied parameters: embeddings out, of the routed experts only the active. */
class ModelFlopsTest {

    @Test
    void countsTheActiveExpertsAndAttentionAndLeavesOutTheEmbeddings() {
        try (JvmDevice device = new JvmDevice(1, false)) {
            MoeConfig moe = new MoeConfig("topk", 8, 2, 1.25, 2.0, false, 0.01, 0.001, 0, "gelu", 32, 1);
            ModelConfig config = new ModelConfig(256, 16, 1, 2, 8, 32, moe);
            Map<String, Tensor> parameters = new LinkedHashMap<>();
            parameters.put("token_embedding", zeros(device, 256, 8));
            parameters.put("position_embedding", zeros(device, 16, 8));
            parameters.put("blocks.0.attention.qkv.weight", zeros(device, 8, 24));
            parameters.put("blocks.0.ffn.router.weight", zeros(device, 8, 8));
            parameters.put("blocks.0.ffn.experts.up.weight", zeros(device, 8, 8, 32));
            parameters.put("head.weight", zeros(device, 8, 256));
            double multiplied = 8 * 24 + 8 * 8 + 2 * 8 * 32 + 8 * 256;
            assertEquals(6 * multiplied + 12.0 * 1 * 16 * 8, ModelFlops.perTrainedToken(config, parameters));

            // An expert-parallel rank holds 2 of the 8 experts: the same model, the same FLOPs.
            parameters.put("blocks.0.ffn.experts.up.weight", zeros(device, 2, 8, 32));
            assertEquals(6 * multiplied + 12.0 * 16 * 8, ModelFlops.perTrainedToken(config, parameters));
        }
    }

    private static Tensor zeros(JvmDevice device, int... shape) {
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        return Tensor.of(device, false, new float[size], shape);
    }
}
