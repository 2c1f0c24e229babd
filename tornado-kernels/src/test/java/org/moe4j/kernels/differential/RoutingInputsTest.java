package org.moe4j.kernels.differential;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.JvmDevice;
import org.moe4j.kernels.lib.Dispatch;
import org.moe4j.kernels.lib.Router;
import org.moe4j.kernels.lib.RouterLoss;
import org.moe4j.kernels.lib.Softmax;
import org.moe4j.kernels.differential.RoutingInputs.Plan;

/**
 * Runs without OpenCL: the inputs the differential cases feed the routing and dispatch kernels are
 * what the JVM router computes from them, so every case runs on a valid routing decision.
 */
class RoutingInputsTest {

    @Test
    void probabilitiesAndLogSumExpsAreTheKernelsOutputs() {
        try (JvmDevice device = new JvmDevice(1, true)) {
            float[] h = RoutingInputs.logits(new SplittableRandom(1), 29, 8, 0);
            float[] p = new float[h.length];
            device.launch(Softmax.grid(58), Softmax::softmaxForward, p, h, 58, 4);
            assertArrayEquals(p, RoutingInputs.softmax(h, 4));
            float[] lse = new float[58];
            device.launch(RouterLoss.gridTokenGroups(29, 2), RouterLoss::logSumExp, lse, h, 29, 8, 2);
            assertArrayEquals(lse, RoutingInputs.logSumExp(h, 4));
        }
    }

    @Test
    void topKPlansAreWhatTheRouterComputesTiesIncluded() {
        try (JvmDevice device = new JvmDevice(1, true)) {
            // (n, e, groups, kPerGroup, levels, capacity)
            for (int[] s : new int[][] {{37, 6, 1, 2, 0, 10}, {41, 8, 1, 3, 3, 12}, {29, 8, 2, 1, 3, 6}}) {
                int n = s[0];
                int e = s[1];
                int j = s[2] * s[3];
                int capacity = s[5];
                float[] probs = RoutingInputs.softmax(RoutingInputs.logits(new SplittableRandom(2), n, e, s[4]), e / s[2]);
                Plan plan = RoutingInputs.topK(probs, n, e, s[2], s[3], capacity);
                int[] choice = new int[n * j];
                device.launch(Router.gridTokens(n), Router::topK, choice, probs, n, e, s[2], s[3]);
                assertArrayEquals(plan.choice(), choice);
                int[] slot = new int[n * j];
                int[] chosen = new int[e];
                int[] kept = new int[e];
                device.launch(Router.gridExperts(e), Router::assignCapacity, slot, chosen, kept, choice, new int[j * e],
                        new int[e], n, e, j, capacity);
                assertArrayEquals(plan.slot(), slot);
                assertArrayEquals(plan.chosen(), chosen);
                assertArrayEquals(invert(device, plan), plan.slotAssign());
                assertTrue(Arrays.stream(slot).anyMatch(x -> x < 0), "capacity drops nothing");
                if (s[4] > 0) {
                    assertTrue(hasTies(probs, e / s[2]), "no ties");
                }
            }
        }
    }

    @Test
    void theDifferentialCasesDropAssignmentsLeaveTokensEmptyAndHaveTies() {
        int[] combines = {0};
        DifferentialCases.cases().filter(c -> c.kernel().equals("Dispatch.combine")).forEach(c -> {
            int[] slot = (int[]) DifferentialCases.inputsOf(c)[4];
            combines[0]++;
            assertTrue(Arrays.stream(slot).anyMatch(x -> x < 0), c + ": nothing dropped");
            if (c.shape().startsWith("top-2")) {
                int j = 2;
                boolean empty = false;
                for (int t = 0; t < slot.length / j; t++) {
                    empty |= slot[t * j] < 0 && slot[t * j + 1] < 0;
                }
                assertTrue(empty, c + ": every token kept an expert");
            }
        });
        assertEquals(3, combines[0]);
        int[] ties = {0};
        DifferentialCases.cases().filter(c -> c.kernel().equals("Router.topK") && c.shape().contains("ties"))
                .forEach(c -> {
                    float[] probs = (float[]) DifferentialCases.inputsOf(c)[1];
                    int size = c.shape().contains("prototypes") ? 4 : 8;
                    assertTrue(hasTies(probs, size), c + ": no ties");
                    ties[0]++;
                });
        assertEquals(2, ties[0]);
    }

    @Test
    void expertChoicePlansAreWhatTheRouterComputesTiesIncluded() {
        try (JvmDevice device = new JvmDevice(1, true)) {
            int n = 23;
            int e = 5;
            int capacity = 6;
            float[] probs = RoutingInputs.softmax(RoutingInputs.logits(new SplittableRandom(4), n, e, 3), e);
            Plan plan = RoutingInputs.expertChoice(probs, n, e, capacity);
            int[] choice = new int[n * e];
            int[] slot = new int[n * e];
            device.launch(Router.gridTokenExperts(n, e), Router::expertChoice, choice, slot, probs, n, e, capacity);
            assertArrayEquals(plan.choice(), choice);
            assertArrayEquals(plan.slot(), slot);
            assertArrayEquals(invert(device, plan), plan.slotAssign());
            assertTrue(Arrays.stream(plan.slotAssign()).allMatch(a -> a >= 0), "an expert left a slot unused");
            assertTrue(Arrays.stream(plan.slot()).anyMatch(x -> x < 0), "every token taken by every expert");
            float[] column = new float[n];
            for (int t = 0; t < n; t++) {
                column[t] = probs[t * e];
            }
            assertTrue(hasTies(column, n), "no ties between tokens");
        }
    }

    @Test
    void combineWeightsAreWhatTheRouterComputes() {
        try (JvmDevice device = new JvmDevice(1, true)) {
            float[] probs = RoutingInputs.softmax(RoutingInputs.logits(new SplittableRandom(5), 37, 6, 0), 6);
            Plan plan = RoutingInputs.topK(probs, 37, 6, 1, 2, 10);
            for (int renormalize = 0; renormalize <= 2; renormalize++) {
                float[] w = new float[37 * 2];
                device.launch(Router.gridTokens(37), Router::combineWeights, w, probs, plan.choice(), plan.slot(), 37, 6, 2,
                        renormalize);
                assertArrayEquals(RoutingInputs.combineWeights(probs, plan, renormalize), w);
            }
        }
    }

    private static int[] invert(JvmDevice device, Plan plan) {
        int slots = plan.e() * plan.capacity();
        int[] slotAssign = new int[slots];
        device.launch(Dispatch.grid(slots), Dispatch::fillInts, slotAssign, -1, slots);
        device.launch(Dispatch.grid(plan.n() * plan.j()), Dispatch::invertSlots, slotAssign, plan.choice(), plan.slot(),
                plan.n(), plan.j(), plan.capacity());
        return slotAssign;
    }

    private static boolean hasTies(float[] probs, int size) {
        for (int from = 0; from < probs.length; from += size) {
            for (int a = from; a < from + size; a++) {
                for (int b = a + 1; b < from + size; b++) {
                    if (probs[a] == probs[b]) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
