package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * The exchange of one process: it holds every expert, so the dispatch buffer the tokens are
 * scattered into is the experts' input, and every collective is the identity.
 */
final class LocalExchange implements TokenExchange {
    static final LocalExchange INSTANCE = new LocalExchange();

    private LocalExchange() {
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int firstExpert(int experts) {
        return 0;
    }

    @Override
    public int localExperts(int experts) {
        return experts;
    }

    @Override
    public long[] tokenCounts(int tokens) {
        return new long[] {tokens};
    }

    @Override
    public int[] allGather(int[] block) {
        return block;
    }

    @Override
    public float[] allGatherRows(float[] rows, long[] rowCounts, int width) {
        return rows;
    }

    @Override
    public double[] sum(double[] values) {
        return values;
    }

    @Override
    public Pass prepare(Device device, DispatchPlan plan, int[] slotSources) {
        return new Pass() {
            @Override
            public DispatchPlan sendPlan() {
                return plan;
            }

            @Override
            public int capacity() {
                return plan.capacity();
            }

            @Override
            public Tensor toExperts(Tape tape, Tensor rows) {
                return rows;
            }

            @Override
            public Tensor fromExperts(Tape tape, Tensor out) {
                return out;
            }
        };
    }
}
