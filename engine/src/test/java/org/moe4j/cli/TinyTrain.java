package org.moe4j.cli;

import java.util.ArrayList;
import java.util.List;

/** {@code moe train} arguments for a model small enough to train a few steps in a test. */
final class TinyTrain {
    /** Two blocks of width 16, 4 experts, context 16, a 20 kB corpus, a metrics line every step. */
    static final List<String> ARGS = List.of(
            "--set", "model.context_size=16", "--set", "model.layers=2", "--set", "model.heads=2",
            "--set", "model.width=16", "--set", "model.hidden=32", "--set", "warmup_steps=2", "--set", "log_every=1",
            "--set", "eval_every=100", "--set", "eval_batches=2", "--set", "corpus_bytes=20000",
            "--set", "moe.hidden=16", "--set", "moe.capacity_factor=1.0");

    private TinyTrain() {
    }

    /** {@link #ARGS} followed by {@code more}. */
    static String[] with(String... more) {
        List<String> args = new ArrayList<>(ARGS);
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** {@code train}, {@link #ARGS} and {@code more}: a whole command line. */
    static String[] command(String... more) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(List.of(with(more)));
        return args.toArray(String[]::new);
    }
}
