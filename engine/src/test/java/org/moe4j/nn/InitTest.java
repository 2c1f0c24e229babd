package org.moe4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.random.SplitMix64;
import org.moe4j.tensor.Tensor;

/** {@link Init}: a shard of experts draws the rows the whole layer would, and leaves the stream where it would. */
class InitTest {
    private static final int EXPERTS = 6;
    private static final int ROW = 5 * 3;

    @Test
    void aShardOfExpertsHoldsTheRowsOfTheWholeParameterAndMovesTheStreamAsFar() {
        JvmDevice device = new JvmDevice(1, false);
        SplitMix64 wholeStream = new SplitMix64(42);
        LayerContext whole = new LayerContext(device, wholeStream);
        float[] all = Init.normal(whole, 0.5f, EXPERTS, 5, 3).toHost().data();
        float after = Init.normal(whole, 1f, 1).toHost().data()[0];
        for (int first = 0; first < EXPERTS; first += 2) {
            SplitMix64 stream = new SplitMix64(42);
            LayerContext shard = new LayerContext(device, stream).experts(new ExpertRows(first, 2, EXPERTS));
            Tensor rows = Init.normal(shard, 0.5f, 2, 5, 3);
            assertArrayEquals(Arrays.copyOfRange(all, first * ROW, (first + 2) * ROW), rows.toHost().data(),
                    "experts " + first + " and " + (first + 1));
            assertEquals(after, Init.normal(new LayerContext(device, stream), 1f, 1).toHost().data()[0],
                    "the next draw after the shard of " + first);
        }
    }

    @Test
    void aParameterNotStackedByExpertIsRefusedInAShard() {
        LayerContext shard = new LayerContext(new JvmDevice(1, false), new SplitMix64(1)).experts(new ExpertRows(2, 2, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Init.normal(shard, 1f, 5, 3));
        assertTrue(e.getMessage().contains("[5, 3]") && e.getMessage().contains("(E, ...)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ExpertRows(3, 2, 4));
    }
}
