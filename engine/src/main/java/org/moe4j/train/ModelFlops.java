package org.moe4j.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.moe4j.moe.MoeConfig;
import org.moe4j.nn.ModelConfig;
import org.moe4j.nn.ParameterShapes;
import org.moe4j.tensor.Tensor;

/**
 * Model FLOPs per trained token, as MFU counts them (PaLM, appendix B): {@code 6·N + 12·L·T·D},
 * where N is the parameters a token's forward pass multiplies with (the embeddings are lookups and
 * left out; of the routed experts of an MoE layer, the ones a token passes through), L the blocks,
 * T the context and D the width; the second term is attention's scores and weighted values. Six
 * for a multiply-add forward and two backward. Model FLOPs count no padding, no dropped token and
 * no recomputation: they are the work the model needs, not the work done.
 */
public final class ModelFlops {
    private ModelFlops() {
    }

    /**
     * @param config     the model's shape
     * @param parameters its parameters by name; a routed expert's tensor holds its experts along
     *                   dimension 0 (on an expert-parallel rank, only that rank's), so one expert's
     *                   share is its size over that dimension
     */
    public static double perTrainedToken(ModelConfig config, Map<String, Tensor> parameters) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        parameters.forEach((name, p) -> shapes.put(name, Arrays.stream(p.shape()).asLongStream().toArray()));
        return perTrainedTokenOfShapes(config, shapes);
    }

    /** As {@link #perTrainedToken(ModelConfig, Map)}, from parameter shapes ({@code ParameterShapes.of}). */
    public static double perTrainedTokenOfShapes(ModelConfig config, Map<String, long[]> shapes) {
        MoeConfig moe = config.moe();
        double multiplied = 0;
        for (Map.Entry<String, long[]> entry : shapes.entrySet()) {
            String name = entry.getKey();
            long[] shape = entry.getValue();
            if (name.endsWith("token_embedding") || name.endsWith("position_embedding")) {
                continue;
            }
            double size = ParameterShapes.elements(shape);
            multiplied += name.contains(ParameterShapes.ROUTED_EXPERTS) && moe != null
                    ? moe.activeExpertsPerToken() * size / shape[0]
                    : size;
        }
        return 6 * multiplied + 12.0 * config.layers() * config.contextSize() * config.width();
    }
}
