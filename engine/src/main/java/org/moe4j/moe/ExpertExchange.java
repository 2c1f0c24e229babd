package org.moe4j.moe;

import org.moe4j.kernels.Device;
import org.moe4j.tensor.Tape;
import org.moe4j.tensor.Tensor;

/**
 * One forward pass of an expert-parallel MoE layer on one rank: the routing decision on the global
 * batch, and the two token exchanges as tape ops.
 *
 * <p><b>Capacity on the global view.</b> The global batch is the ranks' tokens concatenated in
 * rank order. Every rank sends every other rank the same block: its token count and
 * {@code count[r][x]}, the number of its assignments of choice rank r to expert x (an all-to-all
 * of equal int blocks, W·(1 + J·E) ints). From this table every rank knows the global token count
 * N (so the capacity C), the assignments to each expert before capacity, and where each rank's
 * assignments fall in the single-process priority order (choice rank outer, global token inner):
 * the assignments of rank q with choice rank r to expert x take the consecutive slots from
 * {@code start(q,r,x) = Σ_{r'<r} Σ_{q'} count[q'][r'][x] + Σ_{q'<q} count[q'][r][x]}, and those at
 * or past C are dropped. So slots, drops, {@code f_e} of the load-balancing loss and the
 * statistics are exactly those of one process on the global batch, for any W.
 *
 * <p><b>Exchanges.</b> A rank sends each owner the rows of its kept assignments to the owner's
 * experts, ordered by expert then slot ({@link #sendPlan()} maps them like a dispatch buffer of one
 * expert with R rows); the owner computes from the same table which slots of its {@code (E/W,C,D)}
 * buffer the rows from each rank fill, so no indices travel. Results return along the same lists.
 * Zero rows are a normal count: every rank sends a (possibly empty) frame to every other.
 */
final class ExpertExchange {
    private final ExpertParallel ep;
    private final Device device;
    private final int globalTokens;
    private final int capacity;
    private final DispatchPlan globalPlan;
    private final DispatchPlan sendPlan;
    /** Rows sent to / received from each rank. */
    private final int[] sendRows;
    private final int[] recvRows;
    /** Row of the local {@code (E/W·C)} expert buffer each received row fills, in receive order. */
    private final int[] recvSlots;

    private ExpertExchange(ExpertParallel ep, Device device, int globalTokens, int capacity, DispatchPlan globalPlan,
                           DispatchPlan sendPlan, int[] sendRows, int[] recvRows, int[] recvSlots) {
        this.ep = ep;
        this.device = device;
        this.globalTokens = globalTokens;
        this.capacity = capacity;
        this.globalPlan = globalPlan;
        this.sendPlan = sendPlan;
        this.sendRows = sendRows;
        this.recvRows = recvRows;
        this.recvSlots = recvSlots;
    }

    /**
     * Exchanges the per-expert counts and routes this rank's tokens on the global view.
     *
     * @param choice (n,J) expert of each assignment, on the host; not modified
     */
    static ExpertExchange route(Device device, ExpertParallel ep, ExpertRouter router, double capacityFactor,
                                int[] choice, int n, int e, int j) {
        int w = ep.worldSize();
        int me = ep.rank();
        int block = 1 + j * e;
        int[] mine = new int[block];
        mine[0] = n;
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < j; r++) {
                mine[1 + r * e + choice[t * j + r]]++;
            }
        }
        int[] send = new int[w * block];
        for (int p = 0; p < w; p++) {
            System.arraycopy(mine, 0, send, p * block, block);
        }
        ep.addBytesSent((long) (w - 1) * block * Integer.BYTES);
        int[] table = ep.group().allToAll(send);

        long total = 0;
        for (int q = 0; q < w; q++) {
            total += table[q * block];
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("global batch of " + total + " tokens is too large");
        }
        int globalTokens = (int) total;
        int capacity = router.capacity(globalTokens, capacityFactor);

        // before[r][x]: assignments of choice rank < r to x over all ranks; chosen[x]: all of them.
        int[] before = new int[j * e];
        int[] chosen = new int[e];
        for (int r = 0; r < j; r++) {
            for (int x = 0; x < e; x++) {
                if (r > 0) {
                    before[r * e + x] = before[(r - 1) * e + x] + rankTotal(table, w, block, r - 1, e, x);
                }
            }
        }
        for (int x = 0; x < e; x++) {
            chosen[x] = before[(j - 1) * e + x] + rankTotal(table, w, block, j - 1, e, x);
        }
        int[] kept = new int[e];
        for (int x = 0; x < e; x++) {
            kept[x] = Math.min(chosen[x], capacity);
        }

        // This rank's slots, in the single-process priority order.
        int[] next = new int[j * e];
        for (int r = 0; r < j; r++) {
            for (int x = 0; x < e; x++) {
                next[r * e + x] = start(table, before, block, me, r, e, x);
            }
        }
        int[] slot = new int[n * j];
        int[] keptHere = new int[e];
        for (int r = 0; r < j; r++) {
            for (int t = 0; t < n; t++) {
                int at = t * j + r;
                int x = choice[at];
                int s = next[r * e + x]++;
                slot[at] = s < capacity ? s : -1;
                keptHere[x] += s < capacity ? 1 : 0;
            }
        }

        // Send rows ordered by expert (so by owner), then slot: the scan above visits each expert's
        // assignments in slot order.
        int local = ep.localExperts(e);
        int[] rowStart = new int[e + 1];
        for (int x = 0; x < e; x++) {
            rowStart[x + 1] = rowStart[x] + keptHere[x];
        }
        int rows = rowStart[e];
        int[] fill = rowStart.clone();
        int[] sendSlot = new int[n * j];
        int[] sendAssign = new int[rows];
        for (int r = 0; r < j; r++) {
            for (int t = 0; t < n; t++) {
                int at = t * j + r;
                if (slot[at] >= 0) {
                    int row = fill[choice[at]]++;
                    sendSlot[at] = row;
                    sendAssign[row] = at;
                } else {
                    sendSlot[at] = -1;
                }
            }
        }
        int[] sendRows = new int[w];
        for (int p = 0; p < w; p++) {
            sendRows[p] = rowStart[(p + 1) * local] - rowStart[p * local];
        }

        // What arrives from each rank: its slot ranges for this rank's experts, in the same order.
        int first = ep.firstExpert(e);
        int[] recvRows = new int[w];
        int received = 0;
        for (int q = 0; q < w; q++) {
            for (int xl = 0; xl < local; xl++) {
                for (int r = 0; r < j; r++) {
                    int lo = start(table, before, block, q, r, e, first + xl);
                    int hi = Math.min(capacity, lo + count(table, block, q, r, e, first + xl));
                    recvRows[q] += Math.max(0, hi - lo);
                }
            }
            received += recvRows[q];
        }
        int[] recvSlots = new int[received];
        int k = 0;
        for (int q = 0; q < w; q++) {
            for (int xl = 0; xl < local; xl++) {
                for (int r = 0; r < j; r++) {
                    int lo = start(table, before, block, q, r, e, first + xl);
                    int hi = Math.min(capacity, lo + count(table, block, q, r, e, first + xl));
                    for (int s = lo; s < hi; s++) {
                        recvSlots[k++] = xl * capacity + s;
                    }
                }
            }
        }

        DispatchPlan globalPlan = new DispatchPlan(n, e, j, capacity, onDevice(device, choice.clone()),
                onDevice(device, slot), new int[0], onDevice(device, chosen), onDevice(device, kept));
        DispatchPlan sendPlan = new DispatchPlan(n, 1, j, rows, onDevice(device, new int[n * j]),
                onDevice(device, sendSlot), onDevice(device, sendAssign), onDevice(device, new int[] {rows}),
                onDevice(device, new int[] {rows}));
        return new ExpertExchange(ep, device, globalTokens, capacity, globalPlan, sendPlan, sendRows, recvRows,
                recvSlots);
    }

    /** N, tokens over all ranks. */
    int globalTokens() {
        return globalTokens;
    }

    /**
     * This rank's tokens routed on the global view: capacity C of the global batch, slots in the
     * global priority order, {@code chosen}/{@code kept} of the global batch; {@code slotAssign} is
     * empty (the buffer is spread over the ranks).
     */
    DispatchPlan globalPlan() {
        return globalPlan;
    }

    /** The rows to send, as a dispatch into one "expert" of R rows (ordered by owner, expert, slot). */
    DispatchPlan sendPlan() {
        return sendPlan;
    }

    /**
     * Sends each owner its rows and places the rows received into this rank's expert buffer.
     *
     * @param rows (1,R,D) from {@link DispatchOps#dispatch} with {@link #sendPlan()}; not modified
     * @return (E/W,C,D); slots nobody filled are zero
     */
    Tensor toExperts(Tape tape, Tensor rows, int localExperts) {
        int d = rows.dim(-1);
        rows.requireShape("rows to send", 1, sendPlan.capacity(), d);
        boolean recorded = tape.needsGrad(rows);
        Tensor buffer = tape.output(recorded, localExperts, capacity, d);
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

    /**
     * Returns the experts' outputs to the ranks whose tokens they are.
     *
     * @param out (E/W,C,D) the local experts' outputs; not modified
     * @return (1,R,D) in the order of {@link #sendPlan()}
     */
    Tensor fromExperts(Tape tape, Tensor out) {
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

    /** One all-to-all of row blocks: {@code sendRows[p]} rows of width d to rank p, {@code recvRows[p]} from it. */
    private void exchange(float[] send, int[] sendRows, float[] recv, int[] recvRows, int d) {
        int w = sendRows.length;
        int[] sendCounts = new int[w];
        int[] recvCounts = new int[w];
        long bytes = 0;
        for (int p = 0; p < w; p++) {
            sendCounts[p] = sendRows[p] * d;
            recvCounts[p] = recvRows[p] * d;
            bytes += p == ep.rank() ? 0 : (long) sendCounts[p] * Float.BYTES;
        }
        ep.addBytesSent(bytes);
        ep.group().allToAll(send, sendCounts, recv, recvCounts);
    }

    private void addInto(float[] grad, float[] delta) {
        device.copyToHost(grad);
        for (int i = 0; i < delta.length; i++) {
            grad[i] += delta[i];
        }
        device.copyToDevice(grad);
    }

    private static int count(int[] table, int block, int q, int r, int e, int x) {
        return table[q * block + 1 + r * e + x];
    }

    private static int rankTotal(int[] table, int w, int block, int r, int e, int x) {
        int sum = 0;
        for (int q = 0; q < w; q++) {
            sum += count(table, block, q, r, e, x);
        }
        return sum;
    }

    /** First global slot of rank q's assignments of choice rank r to expert x. */
    private static int start(int[] table, int[] before, int block, int q, int r, int e, int x) {
        int s = before[r * e + x];
        for (int p = 0; p < q; p++) {
            s += count(table, block, p, r, e, x);
        }
        return s;
    }

    private static int[] onDevice(Device device, int[] host) {
        int[] array = device.allocateInts(host.length);
        System.arraycopy(host, 0, array, 0, host.length);
        device.copyToDevice(array);
        return array;
    }
}
