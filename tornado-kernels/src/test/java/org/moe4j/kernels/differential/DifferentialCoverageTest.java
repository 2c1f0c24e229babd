package org.moe4j.kernels.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.moe4j.kernels.compiler.LibraryKernels;

/** Runs without a device: a kernel added to the library without a differential case fails the build here. */
class DifferentialCoverageTest {

    @Test
    void everyLibraryKernelHasADifferentialCase() {
        Set<String> covered = new TreeSet<>();
        DifferentialCases.cases().forEach(c -> covered.add(c.kernel()));
        Set<String> missing = new TreeSet<>();
        LibraryKernels.all().forEach(m -> {
            if (!covered.contains(LibraryKernels.name(m))) {
                missing.add(LibraryKernels.name(m));
            }
        });
        assertEquals(Set.of(), missing, "kernels without a case in DifferentialCases.cases(): add one per kernel"
                + " (random inputs, a shape that is not a multiple of the work-group size, and its tolerance)");
    }
}
