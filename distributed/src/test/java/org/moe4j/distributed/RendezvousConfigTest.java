package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RendezvousConfigTest {

    private static Map<String, String> env(String... keyValues) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            env.put(keyValues[i], keyValues[i + 1]);
        }
        return env;
    }

    private static Map<String, String> torchrun() {
        return env("RANK", "1", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.5", "MASTER_PORT",
                "29500", "TORCHELASTIC_RUN_ID", "run-42", "TORCHELASTIC_USE_AGENT_STORE", "True", "MOE_JOB_SECRET",
                "s3cret");
    }

    private static String error(Map<String, String> env) {
        return assertThrows(IllegalArgumentException.class, () -> RendezvousConfig.fromEnvironment(env)).getMessage();
    }

    @Test
    void torchrunUsesThePortAboveItsAgentStore() {
        RendezvousConfig c = RendezvousConfig.fromEnvironment(torchrun());
        assertEquals(LaunchConvention.TORCHRUN, c.convention());
        assertEquals("10.0.0.5", c.masterAddr());
        assertEquals(29501, c.masterPort());
        assertEquals(1, c.rank());
        assertEquals(4, c.worldSize());
        assertEquals(1, c.localRank());
        assertEquals("run-42", c.jobId());
        assertArrayEquals("s3cret".getBytes(StandardCharsets.UTF_8), c.secret());
    }

    @Test
    void rendezvousPortVariableWinsUnderTorchrun() {
        Map<String, String> env = torchrun();
        env.put("MOE_RENDEZVOUS_PORT", "40000");
        assertEquals(40000, RendezvousConfig.fromEnvironment(env).masterPort());
        env.remove("MOE_RENDEZVOUS_PORT");
        env.put("MASTER_PORT", "65535");
        assertTrue(error(env).contains("MOE_RENDEZVOUS_PORT"));
    }

    @Test
    void plainEnvironmentUsesMasterPortItself() {
        Map<String, String> env = torchrun();
        env.remove("TORCHELASTIC_RUN_ID");
        env.remove("TORCHELASTIC_USE_AGENT_STORE");
        env.put("MOE_JOB_ID", "mine");
        RendezvousConfig c = RendezvousConfig.fromEnvironment(env);
        assertEquals(LaunchConvention.ENVIRONMENT, c.convention());
        assertEquals(29500, c.masterPort());
        assertEquals("mine", c.jobId());
    }

    @Test
    void slurmTakesTheFirstHostOfTheNodeList() {
        Map<String, String> env = env("SLURM_PROCID", "5", "SLURM_NTASKS", "8", "SLURM_LOCALID", "1",
                "SLURM_JOB_NODELIST", "gpu[07-09,12],cpu1", "SLURM_JOB_ID", "1234567", "MOE_JOB_SECRET", "x");
        RendezvousConfig c = RendezvousConfig.fromEnvironment(env);
        assertEquals(LaunchConvention.SLURM, c.convention());
        assertEquals("gpu07", c.masterAddr());
        assertEquals(29500 + 567, c.masterPort());
        assertEquals(5, c.rank());
        assertEquals(8, c.worldSize());
        assertEquals(1, c.localRank());
        assertEquals("1234567", c.jobId());
        env.put("MASTER_ADDR", "head");
        env.put("MASTER_PORT", "31000");
        c = RendezvousConfig.fromEnvironment(env);
        assertEquals("head", c.masterAddr());
        assertEquals(31000, c.masterPort());
        env.remove("MASTER_ADDR");
        env.put("SLURM_JOB_NODELIST", "gpu[09-07]");
        String message = error(env);
        assertTrue(message.contains("SLURM_JOB_NODELIST") && message.contains("gpu[09-07]"), message);
    }

    @Test
    void openMpiNeedsMasterAddrAcrossMachines() {
        Map<String, String> env = env("OMPI_COMM_WORLD_RANK", "2", "OMPI_COMM_WORLD_SIZE", "4",
                "OMPI_COMM_WORLD_LOCAL_RANK", "0", "MOE_JOB_SECRET", "x");
        assertTrue(error(env).contains("MASTER_ADDR"));
        env.put("OMPI_COMM_WORLD_LOCAL_SIZE", "4");
        RendezvousConfig c = RendezvousConfig.fromEnvironment(env);
        assertEquals(LaunchConvention.OPEN_MPI, c.convention());
        assertEquals("127.0.0.1", c.masterAddr());
        assertEquals(RendezvousConfig.DEFAULT_PORT, c.masterPort());
        assertEquals(2, c.rank());
        env.put("MASTER_ADDR", "node3");
        env.put("SLURM_PROCID", "0");
        env.put("SLURM_NTASKS", "1");
        c = RendezvousConfig.fromEnvironment(env);
        assertEquals(LaunchConvention.OPEN_MPI, c.convention(), "mpirun inside a Slurm allocation");
        assertEquals("node3", c.masterAddr());
    }

    @Test
    void errorsNameTheVariable() {
        assertTrue(error(env()).contains("RANK and WORLD_SIZE"));
        assertTrue(error(env("RANK", "0")).contains("WORLD_SIZE is not set"));
        assertTrue(error(env("RANK", "x", "WORLD_SIZE", "2")).contains("RANK='x' is not an integer"));
        Map<String, String> env = torchrun();
        env.put("RANK", "4");
        assertTrue(error(env).contains("RANK=4 is not in [0, 4)"));
        env = torchrun();
        env.remove("MASTER_ADDR");
        assertTrue(error(env).contains("MASTER_ADDR is not set"));
        env = torchrun();
        env.put("MASTER_PORT", "70000");
        assertTrue(error(env).contains("MASTER_PORT='70000' is not a port number"));
        env = torchrun();
        env.remove("MOE_JOB_SECRET");
        assertTrue(error(env).contains("MOE_JOB_SECRET"));
        env = torchrun();
        env.put("MOE_COLLECTIVE_TIMEOUT_S", "soon");
        assertTrue(error(env).contains("MOE_COLLECTIVE_TIMEOUT_S='soon'"));
        env = torchrun();
        env.put("MOE_MAX_FRAME_BYTES", "12");
        assertTrue(error(env).contains("MOE_MAX_FRAME_BYTES='12'"));
        env = env("SLURM_PROCID", "0", "MOE_JOB_SECRET", "x");
        assertTrue(error(env).contains("SLURM_NPROCS is not set") || error(env).contains("SLURM_NTASKS"));
    }

    @Test
    void secretFromAFileAndTuning(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("secret");
        Files.writeString(file, "from-file\n");
        Map<String, String> env = torchrun();
        env.remove("MOE_JOB_SECRET");
        env.put("MOE_JOB_SECRET_FILE", file.toString());
        env.put("MOE_COLLECTIVE_TIMEOUT_S", "2.5");
        env.put("MOE_MAX_FRAME_BYTES", "1048576");
        RendezvousConfig c = RendezvousConfig.fromEnvironment(env);
        assertArrayEquals("from-file".getBytes(StandardCharsets.UTF_8), c.secret());
        assertEquals(Duration.ofMillis(2500), c.collectiveTimeout());
        assertEquals(1048576, c.maxFrameBytes());
        assertFalse(c.toString().contains("from-file"), "toString must not show the secret");
        env.put("MOE_JOB_SECRET", "inline");
        assertTrue(error(env).contains("set only one"));
        env.remove("MOE_JOB_SECRET");
        env.put("MOE_JOB_SECRET_FILE", dir.resolve("missing").toString());
        assertTrue(error(env).contains("MOE_JOB_SECRET_FILE"));
    }

    @Test
    void singleProcessNeedsNoMasterOrSecret() {
        RendezvousConfig c = RendezvousConfig.fromEnvironment(env("RANK", "0", "WORLD_SIZE", "1"));
        assertEquals(1, c.worldSize());
        assertEquals(0, c.secret().length);
        assertTrue(RendezvousConfig.hasLaunchEnvironment(env("SLURM_PROCID", "0")));
        assertFalse(RendezvousConfig.hasLaunchEnvironment(env("HOME", "/root")));
    }
}
