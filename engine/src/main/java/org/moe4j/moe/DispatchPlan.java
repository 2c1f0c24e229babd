package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.kernels.lib.Dispatch;

/**
 * Where a forward pass sends its tokens: the routing decision after capacity, as device arrays. A
 * token has {@code J} assignments ({@code K} for top-k and prototyping, in rank order; {@code E} for
 * expert choice, assignment j to expert j).
 *
 * @param tokens     N
 * @param experts    E
 * @param perToken   J, assignments per token
 * @param capacity   C, slots per expert
 * @param choice     (N,J) expert of each assignment
 * @param slot       (N,J) its slot in the expert's rows of the dispatch buffer, −1 when dropped
 * @param slotAssign (E·C) the assignment {@code t·J + j} in each slot, −1 when unused
 * @param chosen     (E) assignments to each expert before capacity
 * @param kept       (E) assignments kept after capacity
 */
public record DispatchPlan(int tokens, int experts, int perToken, int capacity, int[] choice, int[] slot,
                           int[] slotAssign, int[] chosen, int[] kept) {

    /** Fills {@link #slotAssign} from {@link #choice} and {@link #slot} on the device. */
    static int[] invert(Device device, int[] choice, int[] slot, int n, int e, int j, int capacity) {
        int[] slotAssign = device.allocateInts(e * capacity);
        device.launch(Dispatch.grid(e * capacity), Dispatch::fillInts, slotAssign, -1, e * capacity);
        device.launch(Dispatch.grid(n * j), Dispatch::invertSlots, slotAssign, choice, slot, n, j, capacity);
        return slotAssign;
    }

    /** A device array holding {@code host}'s values. */
    static int[] onDevice(Device device, int[] host) {
        int[] array = device.allocateInts(host.length);
        System.arraycopy(host, 0, array, 0, host.length);
        device.copyToDevice(array);
        return array;
    }

    /** Assignments kept in total. */
    public long keptTotal(Device device) {
        device.copyToHost(kept);
        long sum = 0;
        for (int x : kept) {
            sum += x;
        }
        return sum;
    }
}
