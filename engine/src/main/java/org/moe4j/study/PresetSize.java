package org.moe4j.study;

import com.google.gson.JsonObject;

/**
 * Model and training size of a built-in study's preset, and the base config every run of that
 * preset shares: the model without its MoE part, the steps, the batch and the built-in corpus.
 *
 * @param hidden the dense hidden width; a built-in study divides it among the experts a token uses
 */
record PresetSize(int steps, int batchSize, int contextSize, int layers, int heads, int width, int hidden,
                  int evalEvery, int evalBatches, int logEvery, int corpusBytes) {

    /** The base config with {@code moe} as {@code model.moe}; {@code moe} is not copied. */
    JsonObject base(JsonObject moe) {
        JsonObject model = new JsonObject();
        model.addProperty("context_size", contextSize);
        model.addProperty("layers", layers);
        model.addProperty("heads", heads);
        model.addProperty("width", width);
        model.addProperty("hidden", hidden);
        model.add("moe", moe);
        JsonObject base = new JsonObject();
        base.add("model", model);
        base.addProperty("steps", steps);
        base.addProperty("batch_size", batchSize);
        base.addProperty("warmup_steps", steps / 10);
        base.addProperty("log_every", logEvery);
        base.addProperty("eval_every", evalEvery);
        base.addProperty("eval_batches", evalBatches);
        base.addProperty("checkpoint_every", 0);
        base.addProperty("corpus_bytes", corpusBytes);
        return base;
    }
}
