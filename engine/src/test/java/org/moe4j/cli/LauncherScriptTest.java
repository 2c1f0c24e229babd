package org.moe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code moe} launcher script in a tree of its own, with a stand-in {@code mvn} that logs each
 * build and a stand-in JDK that prints its arguments: when it builds, that concurrent launches
 * build once, and what reaches the user's terminal.
 */
class LauncherScriptTest {
    private static final Path SCRIPT = Path.of("..", "moe").toAbsolutePath().normalize();
    private static final Instant TWO_HOURS_AGO = Instant.now().minusSeconds(7200);
    private static final Instant ONE_HOUR_AGO = Instant.now().minusSeconds(3600);

    @TempDir
    Path dir;

    private Path root;
    private Path builds;

    @BeforeEach
    void fakeTree() throws IOException {
        root = dir.resolve("tree");
        builds = dir.resolve("builds.log");
        Files.createDirectories(root);
        Files.copy(SCRIPT, root.resolve("moe"));
        Path jar = root.resolve("engine/target/engine.jar");
        write(jar, "");
        write(root.resolve("engine/src/main/java/A.java"), "class A {}");
        write(root.resolve("pom.xml"), "<project/>");
        setModified(root.resolve("pom.xml"), TWO_HOURS_AGO);
        setModified(root.resolve("engine/src/main/java/A.java"), TWO_HOURS_AGO);
        setModified(jar, ONE_HOUR_AGO);
        // A build: logged, a second long so that concurrent launches overlap it, colour codes on stdout.
        executable(dir.resolve("bin/mvn"), """
                #!/usr/bin/env bash
                echo "build $$" >> "%s"
                sleep 1
                printf '\\033[0m\\033[1mBUILD SUCCESS\\033[m\\n'
                touch "%s"
                """.formatted(builds, jar));
        executable(dir.resolve("jdk/bin/javac"), "#!/bin/sh\n");
        executable(dir.resolve("jdk/bin/java"), """
                #!/usr/bin/env bash
                for a in "$@"; do
                  if [[ "$a" == -XshowSettings* ]]; then echo "    java.specification.version = 25" >&2; exit 0; fi
                done
                echo "WARNING: Using incubator modules: jdk.incubator.vector" >&2
                # as Main does: the program's own stderr goes to the descriptor the launcher names
                for a in "$@"; do [[ "$a" == -Dmoe4j.stderr=* ]] && spec=${a#-Dmoe4j.stderr=}; done
                if [[ -n "${spec:-}" && "$(stat -L -c %i "${spec%:*}")" == "${spec##*:}" ]]; then
                  echo "a real warning" >> "${spec%:*}"
                fi
                echo "java $*"
                echo "LD_PRELOAD=${LD_PRELOAD:-}" >&2
                """);
    }

    @Test
    void generatedSourcesNewerThanTheJarDoNotTriggerABuild() throws Exception {
        write(root.resolve("benchmarks/target/generated-sources/annotations/Gen.java"), "class Gen {}");
        write(root.resolve("runs/x/notes.java"), "");
        Result r = moe(List.of(), "--help");
        assertEquals(0, r.status(), r.toString());
        assertFalse(Files.exists(builds), "built although only generated files changed: " + r);
        assertTrue(r.stdout().contains("org.moe4j.cli.Main --help"), r.toString());
    }

    @Test
    void aChangedSourceBuildsOnceWhileConcurrentLaunchesWaitForIt() throws Exception {
        write(root.resolve("engine/src/main/java/A.java"), "class A { int changed; }");
        List<Process> launches = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            launches.add(start(List.of(), "train", "--steps", "1"));
        }
        for (Process p : launches) {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a launch did not finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out + err);
            assertTrue(out.contains("org.moe4j.cli.Main train --steps 1"), out + err);
        }
        assertEquals(1, Files.readAllLines(builds).size(), "builds: " + Files.readAllLines(builds));
        Result again = moe(List.of(), "eval");
        assertEquals(1, Files.readAllLines(builds).size(), "rebuilt after a build: " + again);
    }

    @Test
    void theUserSeesNoColourCodesAndNoIncubatorWarning() throws Exception {
        write(root.resolve("engine/src/main/java/A.java"), "class A { int changed; }");
        Result r = moe(List.of(), "inspect");
        assertEquals(0, r.status(), r.toString());
        assertFalse((r.stdout() + r.stderr()).contains("\033"), "colour codes: " + r);
        assertFalse(r.stderr().contains("incubator"), r.toString());
        assertTrue(r.stderr().contains("BUILD SUCCESS") && r.stderr().contains("a real warning"), r.toString());
    }

    @Test
    void classpathOptionEnvironmentAndJavaOptionsReachTheJvm() throws Exception {
        Result r = moe(List.of("MOE_CLASSPATH=/opt/from-env", "MOE_JAVA_OPTS=-Xmx3g -Dx=1"),
                "--classpath", "/opt/experts:/opt/more.jar", "train");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().contains("examples/target/classes:/opt/from-env:/opt/experts:/opt/more.jar "),
                r.toString());
        assertTrue(r.stdout().contains(" -Xmx3g -Dx=1 "), r.toString());
        assertTrue(r.stdout().endsWith("org.moe4j.cli.Main train\n"), r.toString());
        Result missing = moe(List.of(), "--classpath");
        assertEquals(2, missing.status(), missing.toString());
        assertTrue(missing.stderr().contains("--classpath needs a value"), missing.toString());
    }

    /** The JDK's libjsig is preloaded, so that a native library's SIGSEGV handler cannot take the JVM's faults. */
    @Test
    void theJdksSignalChainingLibraryIsPreloaded() throws Exception {
        Path jsig = dir.resolve("jdk/lib/libjsig.so");
        Files.createDirectories(jsig.getParent());
        Files.copy(Path.of(System.getProperty("java.home"), "lib", "libjsig.so"), jsig);
        Result r = moe(List.of("LD_PRELOAD="), "train");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stderr().contains("LD_PRELOAD=" + jsig + "\n"), r.toString());
    }

    private record Result(int status, String stdout, String stderr) {
    }

    private Result moe(List<String> env, String... args) throws Exception {
        Process p = start(env, args);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "moe did not finish");
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private Process start(List<String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("moe").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().remove("MOE_CLASSPATH");
        pb.environment().remove("MOE_JAVA_OPTS");
        pb.environment().put("JAVA_HOME", dir.resolve("jdk").toString());
        pb.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        for (String e : env) {
            pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        return pb.start();
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private static void executable(Path file, String text) throws IOException {
        write(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void setModified(Path file, Instant when) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(when));
    }
}
