package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * What an MoE layer needs from the other ranks, and the moving of tokens to their experts and
 * back. One process is the case of one rank ({@link LocalExchange}): nothing is sent, every
 * collective returns this rank's own values, and the token exchange leaves the dispatch buffer
 * where it is; several ranks go through sockets ({@link ExpertExchange}). The MoE layer runs the
 * same sequence either way.
 */
interface TokenExchange {

    int worldSize();

    int rank();

    /** The first of this rank's experts, {@code e·E/ep} for expert rank e. */
    int firstExpert(int experts);

    /** Experts on this rank, {@code E/ep}. */
    int localExperts(int experts);

    /** Every rank's token count, in rank order. */
    long[] tokenCounts(int tokens);

    /** Every rank's {@code block} (all of one length), concatenated in rank order. */
    int[] allGather(int[] block);

    /**
     * Every rank's rows of {@code width} floats, concatenated in rank order.
     *
     * @param rows      this rank's rows; not modified
     * @param rowCounts every rank's number of rows ({@link #tokenCounts})
     */
    float[] allGatherRows(float[] rows, long[] rowCounts, int width);

    /** The sums of {@code values} over the ranks, added in rank order: the same bits on every rank. */
    double[] sum(double[] values);

    /**
     * The token exchange of one routed pass.
     *
     * @param plan        this rank's tokens routed on the global batch
     * @param slotSources which rank of the world fills each global slot of this rank's experts
     *                    ({@code (E/ep)·C}), −1 for none
     */
    Pass prepare(Device device, DispatchPlan plan, int[] slotSources);

    /** The two token exchanges of a forward pass, as tape ops whose backward steps run the mirror exchange. */
    interface Pass {
        /** The plan {@code DispatchOps} dispatches this rank's tokens with, and combines their outputs with. */
        DispatchPlan sendPlan();

        /** Slots per expert of the experts' buffer: C in one process, what this copy of the experts fills with several. */
        int capacity();

        /**
         * @param rows what {@code DispatchOps.dispatch} made with {@link #sendPlan()}; not modified
         * @return this rank's experts' buffer {@code (E/ep,capacity(),D)}
         */
        Tensor toExperts(Tape tape, Tensor rows);

        /**
         * @param out this rank's experts' outputs {@code (E/ep,capacity(),D)}; not modified
         * @return the outputs for this rank's tokens, laid out as {@link #sendPlan()} dispatched them
         */
        Tensor fromExperts(Tape tape, Tensor out);
    }
}
