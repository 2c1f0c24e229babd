package org.moe4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.moe4j.data.TokenDataset;

/** Opens the dataset a config names: its {@code data} file, or the built-in synthetic corpus. */
public final class TrainingData {
    /**
     * The built-in corpus is the same text for every run, whatever the training seed, so that runs
     * with different seeds are compared on the same data; the seed only changes the batch order.
     */
    public static final long CORPUS_SEED = 2021;

    private TrainingData() {
    }

    public static TokenDataset open(TrainConfig config) {
        TokenDataset dataset;
        if (config.data() == null) {
            dataset = TokenDataset.fromSyntheticCorpus(CORPUS_SEED, config.corpusBytes(),
                    TokenDataset.DEFAULT_VALIDATION_FRACTION, config.seed());
        } else {
            try {
                dataset = TokenDataset.fromFile(Path.of(config.data()), TokenDataset.DEFAULT_VALIDATION_FRACTION,
                        config.seed());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read data=" + config.data() + ": " + e.getMessage(), e);
            }
        }
        dataset.checkSequenceLength(config.model().contextSize());
        return dataset;
    }
}
