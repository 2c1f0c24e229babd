package org.moe4j.kernels.lib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;

/** Routing kernels on hand-made probabilities: ties, capacity priority order, expert choice, weights and losses. */
class RouterTest {

    @Test
    void topKBreaksTiesTowardsTheLowerExpertAndOrdersByProbability() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            float[] probs = {
                0.25f, 0.25f, 0.25f, 0.25f,
                0.1f, 0.4f, 0.1f, 0.4f,
                0.7f, 0.1f, 0.2f, 0f,
            };
            int[] choice = new int[6];
            device.launch(Router.gridTokens(3), Router::topK, choice, probs, 3, 4, 1, 2);
            assertArrayEquals(new int[] {0, 1, 1, 3, 0, 2}, choice);
            // Two prototypes of two experts: the top-1 of each.
            int[] proto = new int[6];
            device.launch(Router.gridTokens(3), Router::topK, proto, probs, 3, 4, 2, 1);
            assertArrayEquals(new int[] {0, 2, 1, 3, 0, 2}, proto);
        }
    }

    @Test
    void anotherRanksAssignmentsAheadTakeTheFirstSlots() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            // The same routing as below, but other ranks hold 1 first choice of expert 0 ahead of
            // this rank's, 2 second choices of expert 0 and 1 of expert 1 (6 assignments in all to 0, 1 to 1).
            int[] choice = {1, 0, 1, 0, 0, 2, 0, 1};
            int[] slot = new int[8];
            int[] chosen = new int[3];
            int[] kept = new int[3];
            int[] others = {1, 0, 0, 3, 1, 0};
            device.launch(Router.gridExperts(3), Router::assignCapacity, slot, chosen, kept, choice, others,
                    new int[] {6, 1, 0}, 4, 3, 2, 3);
            // Expert 0: first choices of tokens 2, 3 get slots 1, 2; the second choices start at 3 + 2 = 5: dropped.
            // Expert 1: first choices of tokens 0, 1 get 0, 1; the second choice of token 3 starts at 1 + 2 = 3: dropped.
            assertArrayEquals(new int[] {0, -1, 1, -1, 1, 0, 2, -1}, slot);
            assertArrayEquals(new int[] {10, 4, 1}, chosen);
            assertArrayEquals(new int[] {3, 3, 1}, kept);
        }
    }

    @Test
    void capacityTakesAllFirstChoicesBeforeSecondChoices() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            // 4 tokens, top-2 over 3 experts, capacity 2. Expert 0: first choice of tokens 2 and 3,
            // second choice of tokens 0 and 1: the first choices get the slots.
            int[] choice = {1, 0, 1, 0, 0, 2, 0, 1};
            int[] slot = new int[8];
            int[] chosen = new int[3];
            int[] kept = new int[3];
            device.launch(Router.gridExperts(3), Router::assignCapacity, slot, chosen, kept, choice, new int[6],
                    new int[3], 4, 3, 2, 2);
            assertArrayEquals(new int[] {0, -1, 1, -1, 0, 0, 1, -1}, slot);
            assertArrayEquals(new int[] {4, 3, 1}, chosen);
            assertArrayEquals(new int[] {2, 2, 1}, kept);
            int[] counts = new int[6];
            device.launch(Router.gridExperts(3), Router::countChoices, counts, choice, 4, 3, 2);
            assertArrayEquals(new int[] {2, 2, 0, 2, 1, 1}, counts, "(J,E): first choices, then second");
            int[] slotAssign = new int[6];
            device.launch(Dispatch.grid(6), Dispatch::fillInts, slotAssign, -1, 6);
            device.launch(Dispatch.grid(8), Dispatch::invertSlots, slotAssign, choice, slot, 4, 2, 2);
            assertArrayEquals(new int[] {4, 6, 0, 2, 5, -1}, slotAssign);
        }
    }

    @Test
    void expertChoiceTakesTheMostProbableTokensTiesToTheLowerToken() {
        try (JvmDevice device = new JvmDevice(2, true)) {
            float[] probs = {
                0.5f, 0.5f,
                0.5f, 0.5f,
                0.9f, 0.1f,
            };
            int[] choice = new int[6];
            int[] slot = new int[6];
            device.launch(Router.gridTokenExperts(3, 2), Router::expertChoice, choice, slot, probs, 3, 2, 2);
            assertArrayEquals(new int[] {0, 1, 0, 1, 0, 1}, choice);
            assertArrayEquals(new int[] {1, 0, -1, 1, 0, -1}, slot);
        }
    }

    @Test
    void combineWeightsAndTheirRenormalisedGradient() {
        try (JvmDevice device = new JvmDevice(1, true)) {
            float[] probs = {0.5f, 0.3f, 0.2f};
            int[] choice = {0, 1};
            int[] slot = {0, 3};
            float[] w = new float[2];
            device.launch(Router.gridTokens(1), Router::combineWeights, w, probs, choice, slot, 1, 3, 2, 0);
            assertArrayEquals(new float[] {0.5f, 0.3f}, w);
            device.launch(Router.gridTokens(1), Router::combineWeights, w, probs, choice, slot, 1, 3, 2, 1);
            assertArrayEquals(new float[] {0.5f / 0.8f, 0.3f / 0.8f}, w);
            // w_i = p_i / S: dL/dp_i = (dw_i − Σ dw·w) / S.
            float[] dprobs = new float[3];
            float[] dw = {1f, -2f};
            device.launch(Router.gridTokens(1), Router::combineWeightsBackward, dprobs, dw, w, probs, choice, slot, 1,
                    3, 2, 1);
            float dot = 1f * w[0] - 2f * w[1];
            assertEquals((1f - dot) / 0.8f, dprobs[0], 1e-6f);
            assertEquals((-2f - dot) / 0.8f, dprobs[1], 1e-6f);
            assertEquals(0f, dprobs[2]);
            // A dropped assignment has weight 0 and passes no gradient.
            slot[1] = -1;
            device.launch(Router.gridTokens(1), Router::combineWeights, w, probs, choice, slot, 1, 3, 2, 1);
            assertArrayEquals(new float[] {1f, 0f}, w);
        }
    }

    @Test
    void balancedLoadGivesAuxLossOneAndZLossIsTheMeanSquaredLogSumExp() {
        try (JvmDevice device = new JvmDevice(1, true)) {
            float[] probs = {0.5f, 0.5f, 0.5f, 0.5f};
            float[] aux = new float[1];
            device.launch(RouterLoss.gridScalar(), RouterLoss::auxLoss, aux, probs, new int[] {1, 1}, 2, 2, 1, 1);
            assertEquals(1f, aux[0], 1e-6f);
            float[] logits = {0f, 0f, (float) Math.log(3), 0f};
            float[] lse = new float[2];
            device.launch(RouterLoss.gridTokenGroups(2, 1), RouterLoss::logSumExp, lse, logits, 2, 2, 1);
            float[] z = new float[1];
            device.launch(RouterLoss.gridScalar(), RouterLoss::zLoss, z, lse, 2);
            double expected = (Math.pow(Math.log(2), 2) + Math.pow(Math.log(4), 2)) / 2;
            assertEquals(expected, z[0], 1e-6);
        }
    }
}
