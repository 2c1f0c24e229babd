package org.moe4j.nn;

/**
 * The experts a rank builds of a layer's E: {@code count} of them from {@code first}. Built in a
 * {@link LayerContext} that carries it, {@link Init#normal} fills only these rows of an
 * {@code (E, ...)} parameter and moves the random stream past the others, so a rank's experts equal
 * the rows of the single-process model and no rank ever holds the whole layer.
 *
 * @param first first expert of the shard
 * @param count experts in the shard, the leading dimension of each expert parameter built
 * @param total E, the experts of the layer
 */
public record ExpertRows(int first, int count, int total) {
    public ExpertRows {
        if (first < 0 || count < 1 || first + count > total) {
            throw new IllegalArgumentException("experts [" + first + ", " + (first + count) + ") are not a shard of "
                    + total);
        }
    }
}
