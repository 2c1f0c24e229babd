package org.moe4j.benchmarks.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kit's table from its inputs: the JUnit reports, the training check, the JMH and PyTorch timings. */
class GpuReportTest {
    @TempDir
    Path dir;

    @Test
    void oneRowPerTestClassTheTrainingCheckAndEachRouterWithTheRatio() throws Exception {
        Path junit = Files.createDirectories(dir.resolve("junit"));
        Files.writeString(junit.resolve("TEST-junit-jupiter.xml"), """
                <testsuite><testcase classname="org.moe4j.kernels.cuda.CudaDifferentialTest" name="a"/>
                <testcase classname="org.moe4j.kernels.cuda.CudaDifferentialTest" name="b"><failure message="x"/></testcase>
                <testcase classname="org.moe4j.kernels.cuda.CudaDeviceTest" name="c"><skipped/></testcase></testsuite>""");
        Path training = Files.writeString(dir.resolve("training.json"), """
                {"device": "cuda:0    NVIDIA H200, compute capability 9.0, 132 multiprocessors, 143771 MiB",
                 "gemms": "cuBLAS (libcublas.so.13, pedantic math: no TF32)", "steps": 20,
                 "worst_relative": 2.5e-7, "tolerance": 1e-5, "jvm": [], "cuda": []}""");
        Path jmh = Files.writeString(dir.resolve("jmh.json"), """
                [{"params": {"router": "e8-top1", "device": "cuda"},
                  "secondaryMetrics": {"tokens": {"score": 200000.0, "scoreUnit": "ops/s"}}}]""");
        Path torch = Files.writeString(dir.resolve("torch.json"), """
                {"moe": {"e8-top1": {"median": 400000.0}, "e8-top2": {"median": 300000.0}}}""");
        List<String> rows = GpuReport.table(junit, training, jmh, torch).lines().toList();
        assertEquals("| check | moe4j (cuda:0    NVIDIA H200, compute capability 9.0, 132 multiprocessors, 143771 MiB)"
                + " | PyTorch, same GPU | result |", rows.get(0));
        assertTrue(rows.contains("| CudaDifferentialTest | 1 passed, 1 failed, 0 skipped | | FAIL |"), rows.toString());
        assertTrue(rows.contains("| CudaDeviceTest | 0 passed, 0 failed, 1 skipped | | SKIPPED (see junit.log) |"), rows.toString());
        assertTrue(rows.stream().anyMatch(r -> r.contains("worst relative loss difference 2.5e-07") && r.endsWith("pass (allowed 1e-05) |")),
                rows.toString());
        assertTrue(rows.contains("| MoE layer forward+backward e8-top1 (T=4096 D=512 F=2048) | 200,000 tokens/s | 400,000 tokens/s"
                + " | 0.50x PyTorch |"), rows.toString());
        assertTrue(rows.contains("| MoE layer forward+backward e8-top2 (T=4096 D=512 F=2048) | not run | 300,000 tokens/s |  |"),
                rows.toString());
    }

    @Test
    void missingInputsAreRowsSayingSo() throws Exception {
        List<String> rows = GpuReport.table(dir.resolve("none"), dir.resolve("t.json"), dir.resolve("j.json"),
                dir.resolve("p.json")).lines().toList();
        assertTrue(rows.get(2).endsWith("| not run |") && rows.get(3).contains("not run"), rows.toString());
    }
}
