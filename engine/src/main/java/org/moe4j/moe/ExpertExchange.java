package org.moe4j.moe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * The exchange of an expert-parallel layer over W ranks laid out {@code ep × dp}
 * ({@link ExpertParallel}). The collectives of routing (counts, probabilities, statistics) go over
 * all W ranks; the token exchange stays inside this rank's expert group. It sends each owner the
 * rows of this rank's kept assignments to the owner's experts, ordered by expert then slot, and
 * the owner places the rows from each rank into its buffer in the order of the global slots
 * {@code slotSources} says that rank fills, so no index travels. The buffer of a copy of the
 * experts holds its expert group's kept assignments alone, packed in global slot order, so each of
 * the dp copies computes its share and none the others'. Results return along the same lists. Zero
 * rows are a normal count: every rank sends a (possibly empty) frame to every other of its group.
 * With bf16 on, the rows travel as {@link BFloat16}, all of them (this rank's own rows too, so the
 * result does not depend on which rank of the group holds an expert).
 */
final class ExpertExchange implements TokenExchange {
    private final ExpertParallel ep;

    ExpertExchange(ExpertParallel ep) {
        this.ep = ep;
    }

    @Override
    public int worldSize() {
        return ep.worldSize();
    }

    @Override
    public int rank() {
        return ep.rank();
    }

    @Override
    public int firstExpert(int experts) {
        return ep.firstExpert(experts);
    }

    @Override
    public int localExperts(int experts) {
        return ep.localExperts(experts);
    }

    @Override
    public long[] tokenCounts(int tokens) {
        return ep.group().allGather(tokens);
    }

    @Override
    public int[] allGather(int[] block) {
        int w = worldSize();
        int[] send = new int[w * block.length];
        for (int p = 0; p < w; p++) {
            System.arraycopy(block, 0, send, p * block.length, block.length);
        }
        ep.addBytesSent((long) (w - 1) * block.length * Integer.BYTES);
        return ep.group().allToAll(send);
    }

    @Override
    public float[] allGatherRows(float[] rows, long[] rowCounts, int width) {
        int w = worldSize();
        int[] sendCounts = new int[w];
        int[] recvCounts = new int[w];
        long total = 0;
        for (int p = 0; p < w; p++) {
            sendCounts[p] = rows.length;
            recvCounts[p] = Math.toIntExact(rowCounts[p] * width);
            total += recvCounts[p];
        }
        float[] send = new float[w * rows.length];
        for (int p = 0; p < w; p++) {
            System.arraycopy(rows, 0, send, p * rows.length, rows.length);
        }
        float[] all = new float[Math.toIntExact(total)];
        ep.addBytesSent((long) (w - 1) * rows.length * Float.BYTES);
        ep.group().allToAll(send, sendCounts, all, recvCounts);
        return all;
    }

    @Override
    public double[] sum(double[] values) {
        int[] bits = new int[2 * values.length];
        for (int i = 0; i < values.length; i++) {
            long b = Double.doubleToLongBits(values[i]);
            bits[2 * i] = (int) (b >>> 32);
            bits[2 * i + 1] = (int) b;
        }
        int[] all = allGather(bits);
        double[] sums = new double[values.length];
        for (int q = 0; q < worldSize(); q++) {
            for (int i = 0; i < values.length; i++) {
                int at = q * bits.length + 2 * i;
                sums[i] += Double.longBitsToDouble(((long) all[at] << 32) | (all[at + 1] & 0xFFFFFFFFL));
            }
        }
        return sums;
    }

    @Override
    public Pass prepare(Device device, DispatchPlan plan, int[] slotSources) {
        return new RowExchange(device, plan, slotSources);
    }

    /** One pass's rows: this rank's kept assignments out, the slots of its experts in. */
    private final class RowExchange implements Pass {
        private final Device device;
        private final DispatchPlan sendPlan;
        /** C, the global capacity of the plan. */
        private final int capacity;
        /** Slots per local expert in this copy's buffer: the most any of them has from the expert group. */
        private final int bufferCapacity;
        private final int localExperts;
        /** Rows sent to / received from each rank of the expert group. */
        private final int[] sendRows;
        private final int[] recvRows;
        /** Row of the local {@code (E/ep·bufferCapacity)} expert buffer each received row fills, in receive order. */
        private final int[] recvSlots;

        RowExchange(Device device, DispatchPlan plan, int[] slotSources) {
            this.device = device;
            this.capacity = plan.capacity();
            int e = plan.experts();
            int n = plan.tokens();
            int j = plan.perToken();
            int w = ep.expertRanks();
            this.localExperts = localExperts(e);
            device.copyToHost(plan.choice());
            device.copyToHost(plan.slot());
            int[] choice = plan.choice();
            int[] slot = plan.slot();

            // Kept assignments by expert, each expert's in slot order: rows go out ordered by owner,
            // expert, slot, the order the owner reads its slots in.
            int[] byExpertSlot = new int[e * capacity];
            Arrays.fill(byExpertSlot, -1);
            for (int a = 0; a < n * j; a++) {
                if (slot[a] >= 0) {
                    byExpertSlot[choice[a] * capacity + slot[a]] = a;
                }
            }
            int[] sendSlot = new int[n * j];
            Arrays.fill(sendSlot, -1);
            List<Integer> assigned = new ArrayList<>();
            this.sendRows = new int[w];
            for (int i = 0; i < byExpertSlot.length; i++) {
                int a = byExpertSlot[i];
                if (a >= 0) {
                    sendSlot[a] = assigned.size();
                    assigned.add(a);
                    sendRows[i / capacity / localExperts]++;
                }
            }
            int rows = assigned.size();
            int[] sendAssign = assigned.stream().mapToInt(Integer::intValue).toArray();
            this.sendPlan = new DispatchPlan(n, 1, j, rows, DispatchPlan.onDevice(device, new int[n * j]),
                    DispatchPlan.onDevice(device, sendSlot), DispatchPlan.onDevice(device, sendAssign),
                    DispatchPlan.onDevice(device, new int[] {rows}), DispatchPlan.onDevice(device, new int[] {rows}));

            // The global slots this expert group fills, packed per expert in slot order.
            int firstRank = ep.replica() * w;
            int[] packed = new int[slotSources.length];
            int[] filled = new int[localExperts];
            this.recvRows = new int[w];
            for (int s = 0; s < slotSources.length; s++) {
                int m = slotSources[s] - firstRank;
                packed[s] = m >= 0 && m < w ? filled[s / capacity]++ : -1;
                if (packed[s] >= 0) {
                    recvRows[m]++;
                }
            }
            this.bufferCapacity = Math.max(1, Arrays.stream(filled).max().orElse(0));
            int[] at = new int[w];
            for (int m = 1; m < w; m++) {
                at[m] = at[m - 1] + recvRows[m - 1];
            }
            this.recvSlots = new int[at[w - 1] + recvRows[w - 1]];
            for (int s = 0; s < slotSources.length; s++) {
                if (packed[s] >= 0) {
                    recvSlots[at[slotSources[s] - firstRank]++] = s / capacity * bufferCapacity + packed[s];
                }
            }
        }

        @Override
        public int capacity() {
            return bufferCapacity;
        }

        @Override
        public DispatchPlan sendPlan() {
            return sendPlan;
        }

        @Override
        public Tensor toExperts(Tape tape, Tensor rows) {
            int d = rows.dim(-1);
            rows.requireShape("rows to send", 1, sendPlan.capacity(), d);
            boolean recorded = tape.needsGrad(rows);
            Tensor buffer = tape.output(recorded, localExperts, bufferCapacity, d);
            float[] received = new float[recvSlots.length * d];
            exchange(rows.toHost().data(), sendRows, received, recvRows, d);
            float[] data = buffer.data();
            for (int i = 0; i < recvSlots.length; i++) {
                System.arraycopy(received, i * d, data, recvSlots[i] * d, d);
            }
            buffer.toDevice();
            if (recorded) {
                tape.record(() -> {
                    float[] dbuffer = buffer.grad();
                    device.copyToHost(dbuffer);
                    float[] back = new float[recvSlots.length * d];
                    for (int i = 0; i < recvSlots.length; i++) {
                        System.arraycopy(dbuffer, recvSlots[i] * d, back, i * d, d);
                    }
                    float[] got = new float[sendPlan.capacity() * d];
                    exchange(back, recvRows, got, sendRows, d);
                    addInto(rows.grad(), got);
                });
            }
            return buffer;
        }

        @Override
        public Tensor fromExperts(Tape tape, Tensor out) {
            int d = out.dim(-1);
            boolean recorded = tape.needsGrad(out);
            Tensor rows = tape.output(recorded, 1, sendPlan.capacity(), d);
            float[] data = out.toHost().data();
            float[] send = new float[recvSlots.length * d];
            for (int i = 0; i < recvSlots.length; i++) {
                System.arraycopy(data, recvSlots[i] * d, send, i * d, d);
            }
            exchange(send, recvRows, rows.data(), sendRows, d);
            rows.toDevice();
            if (recorded) {
                tape.record(() -> {
                    float[] drows = rows.grad();
                    device.copyToHost(drows);
                    float[] got = new float[recvSlots.length * d];
                    exchange(drows, sendRows, got, recvRows, d);
                    float[] dout = out.grad();
                    device.copyToHost(dout);
                    for (int i = 0; i < recvSlots.length; i++) {
                        int at = recvSlots[i] * d;
                        for (int c = 0; c < d; c++) {
                            dout[at + c] += got[i * d + c];
                        }
                    }
                    device.copyToDevice(dout);
                });
            }
            return rows;
        }

        /**
         * One all-to-all of row blocks in the expert group: {@code sendRows[p]} rows of width d to its
         * rank p, {@code recvRows[p]} from it; as bfloat16 when the layout says so.
         */
        private void exchange(float[] send, int[] sendRows, float[] recv, int[] recvRows, int d) {
            int w = sendRows.length;
            int[] sendCounts = new int[w];
            int[] recvCounts = new int[w];
            long values = 0;
            for (int p = 0; p < w; p++) {
                sendCounts[p] = sendRows[p] * d;
                recvCounts[p] = recvRows[p] * d;
                values += p == ep.expertRank() ? 0 : sendCounts[p];
            }
            long start = System.nanoTime();
            if (ep.bf16()) {
                short[] got = new short[recv.length];
                ep.expertGroup().allToAll(BFloat16.round(send), sendCounts, got, recvCounts);
                BFloat16.widen(got, recv);
                ep.addBytesSent(values * Short.BYTES);
            } else {
                ep.expertGroup().allToAll(send, sendCounts, recv, recvCounts);
                ep.addBytesSent(values * Float.BYTES);
            }
            ep.addExchangeNanos(System.nanoTime() - start);
        }

        private void addInto(float[] grad, float[] delta) {
            device.copyToHost(grad);
            for (int i = 0; i < delta.length; i++) {
                grad[i] += delta[i];
            }
            device.copyToDevice(grad);
        }
    }
}
