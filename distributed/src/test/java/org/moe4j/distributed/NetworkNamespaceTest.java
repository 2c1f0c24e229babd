package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.moe4j.testing.Requirement;

/**
 * Two "hosts" on one machine: each rank runs in its own network namespace, the two joined by a veth
 * pair with private addresses (10.200.N.1 and 10.200.N.2) that exist only inside these namespaces.
 * The ranks exchange collectives over the link; then an nftables rule in rank 1's namespace drops
 * every packet, and both ranks must fail within the collective timeout naming each other.
 *
 * <p>Needs root, {@code ip netns} (iproute2) and {@code nft} (nftables); skipped otherwise. The
 * namespaces (and with them the veth pair and the rule) are deleted after the test, also on failure.
 */
class NetworkNamespaceTest {
    private static final long COMMAND_SECONDS = 10;
    private static final int COLLECTIVE_TIMEOUT_S = 5;
    private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    private final String nsA = "moe4j-a-" + id;
    private final String nsB = "moe4j-b-" + id;
    private final List<Process> ranks = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : ranks) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        for (String ns : namespaces) {
            run("ip", "netns", "del", ns);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void collectivesAcrossNamespacesThenACutLinkFailsBothRanksNamingTheOther() throws Exception {
        Requirement.assume("netns", "root".equals(System.getProperty("user.name")),
                "network namespaces need root (running as " + System.getProperty("user.name") + ")");
        Requirement.assume("netns", run("ip", "netns", "list").status == 0, "'ip netns' (iproute2) is not available");
        Requirement.assume("netns", run("nft", "--version").status == 0, "'nft' (nftables) is not installed");
        Result add = run("ip", "netns", "add", nsA);
        Requirement.assume("netns", add.status == 0, "cannot create a network namespace: " + add.output);
        namespaces.add(nsA);
        Requirement.assume("netns", run("ip", "netns", "add", nsB).status == 0,
                "cannot create a second network namespace");
        namespaces.add(nsB);
        String vethA = "moeA" + id;
        String vethB = "moeB" + id;
        int subnet = ThreadLocalRandom.current().nextInt(1, 255);
        String addrA = "10.200." + subnet + ".1";
        String addrB = "10.200." + subnet + ".2";
        Result veth = run("ip", "link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB,
                "netns", nsB);
        Requirement.assume("netns", veth.status == 0, "cannot create a veth pair: " + veth.output);
        Requirement.assume("netns", run("ip", "netns", "exec", nsB, "nft", "list", "ruleset").status == 0,
                "nft does not work inside a network namespace here");
        check("ip", "-n", nsA, "addr", "add", addrA + "/24", "dev", vethA);
        check("ip", "-n", nsB, "addr", "add", addrB + "/24", "dev", vethB);
        for (String[] nsDev : new String[][] {{nsA, vethA}, {nsB, vethB}}) {
            check("ip", "-n", nsDev[0], "link", "set", "lo", "up");
            check("ip", "-n", nsDev[0], "link", "set", nsDev[1], "up");
        }

        String job = LocalLaunch.newJobId();
        String secret = LocalLaunch.newJobSecret();
        ChildProcess zero = start(nsA, 0, addrA, 1, job, secret);
        int port = Integer.parseInt(zero.nextLine("PORT ", 30).substring(5));
        ChildProcess one = start(nsB, 1, addrA, port, job, secret);
        zero.nextLine("ITER 3", 40);
        one.nextLine("ITER 3", 40);

        // Cut the link: rank 1's namespace drops everything, both ways.
        Result table = run("ip", "netns", "exec", nsB, "nft", "add", "table", "inet", "moe4jcut");
        Requirement.assume("netns", table.status == 0, "nft cannot add a table here (nf_tables missing?): " + table.output);
        check("ip", "netns", "exec", nsB, "nft", "add", "chain", "inet", "moe4jcut", "in",
                "{ type filter hook input priority 0 ; policy drop ; }");
        check("ip", "netns", "exec", nsB, "nft", "add", "chain", "inet", "moe4jcut", "out",
                "{ type filter hook output priority 0 ; policy drop ; }");
        long cut = System.nanoTime();
        ChildProcess[] workers = {zero, one};
        for (int r = 0; r < 2; r++) {
            ChildProcess w = workers[r];
            assertEquals(3, w.exit(30), "rank " + r + " stderr: " + w.stderr());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut);
            assertTrue(millis <= 3000L * COLLECTIVE_TIMEOUT_S, "rank " + r + " exited " + millis + " ms after the"
                    + " cut, with a collective timeout of " + COLLECTIVE_TIMEOUT_S + " s");
            String err = w.stderr();
            // A dropped link is a silent peer: the watchdog's error names it ("rank 1 sent nothing
            // within the collective timeout"), or a peer's ABORT does ("rank 1 lost").
            assertTrue(err.contains("FAILED ") && java.util.regex.Pattern.compile(
                    "on rank " + r + ": rank " + (1 - r) + " (lost|sent nothing)").matcher(err).find(),
                    "rank " + r + ": " + err);
        }
    }

    private ChildProcess start(String ns, int rank, String master, int port, String job, String secret) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", ns, java, "-XX:TieredStopAtLevel=1",
                "-Xshare:auto", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                ProcessWorker.class.getName(), "loop");
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SLURM_") || k.startsWith("OMPI_") || k.startsWith("TORCHELASTIC_")
                || k.startsWith("MOE_"));
        env.putAll(LocalLaunch.rankEnvironment(rank, 2, master, port, job, secret));
        env.put("MOE_COLLECTIVE_TIMEOUT_S", String.valueOf(COLLECTIVE_TIMEOUT_S));
        Process p = pb.start();
        ranks.add(p);
        return new ChildProcess(p);
    }

    private record Result(int status, String output) {
    }

    /** Runs a command with a time limit; status -1 when it could not run or did not end in time. */
    private static Result run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", command) + ": no end within " + COMMAND_SECONDS + " s");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }

    private static void check(String... command) {
        Result r = run(command);
        assertEquals(0, r.status, String.join(" ", command) + ": " + r.output);
    }
}
