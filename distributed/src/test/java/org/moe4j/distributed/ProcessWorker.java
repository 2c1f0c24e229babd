package org.moe4j.distributed;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Arrays;

/**
 * One rank of {@link MultiProcessTest} and {@link NetworkNamespaceTest}, configured from the
 * environment like a real launch. Rank 0 binds the store on an ephemeral port of {@code MASTER_ADDR}
 * and prints {@code PORT <n>} for the test to pass on.
 *
 * <p>Modes: {@code once} all-reduces and all-to-alls once and prints the results; {@code loop}
 * repeats them, printing {@code ITER <i>}, until something fails. On failure it prints
 * {@code FAILED <message>} on stderr and exits with status 3.
 */
public final class ProcessWorker {
    private ProcessWorker() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        RendezvousConfig config = RendezvousConfig.fromEnvironment(System.getenv());
        ServerSocketChannel store = null;
        if (config.rank() == 0) {
            store = ServerSocketChannel.open();
            store.bind(new InetSocketAddress(InetAddress.getByName(config.masterAddr()), 0), 16);
            int port = ((InetSocketAddress) store.getLocalAddress()).getPort();
            config = config.withMasterPort(port);
            out.println("PORT " + port);
            out.flush();
        }
        try (ProcessGroup group = ProcessGroup.join(config, Duration.ofSeconds(20), store)) {
            int r = group.rank();
            int w = group.worldSize();
            for (int i = 0; ; i++) {
                group.setStep(i);
                float[] data = new float[1000 + r];
                Arrays.fill(data, 0, 1000, r + 1);
                float[] sum = Arrays.copyOf(data, 1000);
                group.allReduceSum(sum);
                int[] counts = new int[w];
                for (int p = 0; p < w; p++) {
                    counts[p] = r + p;
                }
                float[] send = new float[Arrays.stream(counts).sum()];
                Arrays.fill(send, r);
                AllToAllResult got = group.allToAll(send, counts);
                if (args[0].equals("once")) {
                    out.println("RESULT rank=" + r + " sum=" + sum[0] + "," + sum[999] + " counts="
                            + Arrays.toString(got.counts()) + " data=" + Arrays.toString(got.data()));
                    group.barrier();
                    return;
                }
                out.println("ITER " + i);
                out.flush();
                Thread.sleep(5);
            }
        } catch (CollectiveException | RendezvousException e) {
            System.err.println("FAILED " + e.getMessage());
            System.err.flush();
            System.exit(3);
        }
    }
}
