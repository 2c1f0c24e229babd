package org.moe4j.kernels;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;

/**
 * What the JVM's CPU kernels are tuned to: the vector width the Vector API compiles to, how many
 * vector registers the JIT may use, and the per-core data caches. Read from the running JVM and
 * the operating system, never assumed: the same build runs on AVX2 machines (8 floats, 16 ymm
 * registers) and AVX-512 ones (16 floats, 32 zmm), and {@code -XX:UseAVX=2} makes an AVX-512
 * machine an AVX2 one to the JIT.
 *
 * @param model           the CPU's model name, or {@code unknown}
 * @param vectorFloats    floats in the preferred vector ({@link FloatVector#SPECIES_PREFERRED})
 * @param vectorRegisters vector registers the JIT allocates from
 * @param l1dBytes        level-1 data cache of one core
 * @param l2Bytes         level-2 cache of one core
 */
public record CpuInfo(String model, int vectorFloats, int vectorRegisters, int l1dBytes, int l2Bytes) {

    /** Cache sizes where the operating system does not say: small enough for any current x86 or ARM core. */
    static final int DEFAULT_L1D = 32 << 10;
    static final int DEFAULT_L2 = 512 << 10;

    private static final CpuInfo CURRENT = read();

    /** This machine, as the running JVM sees it (read once). */
    public static CpuInfo current() {
        return CURRENT;
    }

    /** One line for logs and benchmark records, e.g. {@code AMD EPYC, 16-float vectors, 32 registers, L1d 48 KiB, L2 1024 KiB}. */
    public String describe() {
        return String.format(Locale.ROOT, "%s, %d-float vectors, %d vector registers, L1d %d KiB, L2 %d KiB", model,
                vectorFloats, vectorRegisters, l1dBytes >> 10, l2Bytes >> 10);
    }

    private static CpuInfo read() {
        Path cache = Path.of("/sys/devices/system/cpu/cpu0/cache");
        return new CpuInfo(modelName(), FloatVector.SPECIES_PREFERRED.length(), registersOfThisJvm(),
                cacheBytes(cache, 1, "Data", DEFAULT_L1D), cacheBytes(cache, 2, "Unified", DEFAULT_L2));
    }

    /**
     * x86-64 has 16 vector registers up to AVX2 and 32 with AVX-512 (which the JIT uses when
     * {@code UseAVX} is 3); AArch64 has 32 (NEON and SVE).
     */
    private static int registersOfThisJvm() {
        String arch = System.getProperty("os.arch", "");
        if (arch.equals("aarch64")) {
            return 32;
        }
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return Integer.parseInt(vm.getVMOption("UseAVX").getValue()) >= 3 ? 32 : 16;
        } catch (RuntimeException notHotSpotOrNotX86) {
            return 16;
        }
    }

    /** The size of the cache of {@code level} and {@code type} in sysfs, or {@code otherwise}. */
    static int cacheBytes(Path dir, int level, String type, int otherwise) {
        for (int index = 0; index < 8; index++) {
            Path entry = dir.resolve("index" + index);
            try {
                if (Integer.parseInt(Files.readString(entry.resolve("level")).trim()) == level
                        && Files.readString(entry.resolve("type")).trim().equals(type)) {
                    return parseSize(Files.readString(entry.resolve("size")).trim());
                }
            } catch (IOException | NumberFormatException unreadable) {
                // Not there (not Linux, fewer levels) or not a size: try the next, then the default.
            }
        }
        return otherwise;
    }

    /** {@code 48K}, {@code 1024K}, {@code 2M} or plain bytes. */
    static int parseSize(String size) {
        char unit = Character.toUpperCase(size.charAt(size.length() - 1));
        return switch (unit) {
            case 'K' -> Integer.parseInt(size.substring(0, size.length() - 1)) << 10;
            case 'M' -> Integer.parseInt(size.substring(0, size.length() - 1)) << 20;
            default -> Integer.parseInt(size);
        };
    }

    private static String modelName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException notLinux) {
            // Fall through to the architecture.
        }
        return System.getProperty("os.arch", "unknown");
    }
}
