package org.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuInfoTest {

    @Test
    void readsTheCachesOfTheLevelAndTypeAsked(@TempDir Path dir) throws IOException {
        cache(dir, 0, 1, "Data", "48K");
        cache(dir, 1, 1, "Instruction", "32K");
        cache(dir, 2, 2, "Unified", "1024K");
        cache(dir, 3, 3, "Unified", "32M");
        assertEquals(48 << 10, CpuInfo.cacheBytes(dir, 1, "Data", 1));
        assertEquals(1 << 20, CpuInfo.cacheBytes(dir, 2, "Unified", 1));
        assertEquals(32 << 20, CpuInfo.cacheBytes(dir, 3, "Unified", 1));
        assertEquals(7, CpuInfo.cacheBytes(dir.resolve("absent"), 1, "Data", 7), "the default when sysfs says nothing");
        assertEquals(4096, CpuInfo.parseSize("4096"));
    }

    @Test
    void thisMachineIsDescribedFromTheRunningJvm() {
        CpuInfo cpu = CpuInfo.current();
        assertEquals(FloatVector.SPECIES_PREFERRED.length(), cpu.vectorFloats());
        assertTrue(cpu.vectorRegisters() == 16 || cpu.vectorRegisters() == 32, cpu.describe());
        assertTrue(cpu.l1dBytes() > 0 && cpu.l2Bytes() > cpu.l1dBytes(), cpu.describe());
    }

    private static void cache(Path dir, int index, int level, String type, String size) throws IOException {
        Path entry = Files.createDirectories(dir.resolve("index" + index));
        Files.writeString(entry.resolve("level"), level + "\n");
        Files.writeString(entry.resolve("type"), type + "\n");
        Files.writeString(entry.resolve("size"), size + "\n");
    }
}
