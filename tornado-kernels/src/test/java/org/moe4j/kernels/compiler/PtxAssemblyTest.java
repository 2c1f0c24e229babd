package org.moe4j.kernels.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.moe4j.testing.Requirement;

/**
 * Every library kernel, in both math modes, prints PTX that {@code ptxas} assembles with no error
 * and no warning for {@code sm_75} and {@code sm_90} (CUDA 13's ptxas no longer assembles sm_70;
 * PTX that declares {@code .target sm_70} assembles for the newer architectures). The kernels are
 * enumerated, so a kernel added to the library is checked without anything else to write. Skipped,
 * with the reason, where ptxas is missing.
 */
class PtxAssemblyTest {
    private static final List<String> ARCHITECTURES = List.of("sm_75", "sm_90");

    @Test
    void everyLibraryKernelAssemblesForTuringAndHopper() throws Exception {
        Requirement.assume("ptxas", Ptxas.available(), Ptxas.unavailableReason());
        List<Method> kernels = LibraryKernels.all();
        assertTrue(kernels.size() >= 30, "found only " + kernels.size() + " kernels");
        record Job(String kernel, String arch, Future<Ptxas.Result> result) {
        }
        List<Job> jobs = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()))) {
            for (Method m : kernels) {
                for (MathMode mode : MathMode.values()) {
                    String ptx = PtxCompiler.compile(m, mode, PtxTarget.of(PtxTarget.DEFAULT)).source();
                    for (String arch : ARCHITECTURES) {
                        jobs.add(new Job(LibraryKernels.name(m) + " (" + mode.name().toLowerCase() + ")", arch,
                                pool.submit(() -> Ptxas.assemble(ptx, arch))));
                    }
                }
            }
            List<String> failures = new ArrayList<>();
            for (Job job : jobs) {
                Ptxas.Result r = job.result().get();
                if (r.status() != 0 || !r.log().isBlank()) {
                    failures.add(job.kernel() + " for " + job.arch() + ": status " + r.status() + "\n" + r.log());
                }
            }
            assertEquals(List.of(), failures, "PTX that ptxas refuses or warns about");
        }
    }

    @Test
    void theSemanticsKernelsAssembleToo() throws Exception {
        Requirement.assume("ptxas", Ptxas.available(), Ptxas.unavailableReason());
        for (Method m : SemanticsKernels.class.getDeclaredMethods()) {
            if (java.lang.reflect.Modifier.isPublic(m.getModifiers())) {
                Ptxas.Result r = Ptxas.assemble(PtxCompiler.compile(m, MathMode.STRICT, PtxTarget.of("sm_70")).source(),
                        "sm_75");
                assertEquals(new Ptxas.Result(0, ""), r, m.getName());
            }
        }
    }

    @Test
    void aRaisedTargetDeclaresItsArchitectureAndIsaVersion() throws Exception {
        Requirement.assume("ptxas", Ptxas.available(), Ptxas.unavailableReason());
        Method softmax = LibraryKernels.all().stream().filter(m -> LibraryKernels.name(m).equals("Softmax.softmaxForward"))
                .findFirst().orElseThrow();
        String ptx = PtxCompiler.compile(softmax, MathMode.RELAXED, PtxTarget.of("sm_90")).source();
        assertTrue(ptx.contains("\n.version 7.8\n.target sm_90\n"), ptx);
        assertEquals(new Ptxas.Result(0, ""), Ptxas.assemble(ptx, "sm_90"));
    }
}
