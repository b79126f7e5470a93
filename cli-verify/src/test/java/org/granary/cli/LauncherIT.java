package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.granary.nar.NarDumper;
import org.granary.nar.testing.NixOracle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/granary} on the packaged jar, as a user runs it: UTF-8 names come out exact whatever the
 * caller's locale, and a JVM started without a UTF-8 locale refuses them rather than altering them.
 */
class LauncherIT {
    private static final Path TOP = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path LAUNCHER = TOP.resolve("bin/granary");
    private static final Path JAR = TOP.resolve("cli-verify/target/granary.jar");

    @TempDir
    static Path tmp;

    static Path tree;

    /** What a process printed and returned. */
    record Result(int status, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8).strip();
        }
    }

    @BeforeAll
    static void makeTreeWithUtf8Names() throws IOException {
        tree = Files.createDirectory(tmp.resolve("names"));
        for (String name : List.of("café", "naïve", "日本語", "\uD83D\uDE00", "\uFB01", "plain")) {
            Files.writeString(tree.resolve(name), name + "\n");
        }
        Files.createSymbolicLink(tree.resolve("link-é"), Path.of("café"));
    }

    /** Runs a command with a bare environment: only PATH, JAVA_HOME and the given variables. */
    static Result run(Map<String, String> variables, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> environment = builder.environment();
        Map<String, String> kept = new HashMap<>();
        for (String name : List.of("PATH", "JAVA_HOME", "HOME")) {
            if (System.getenv(name) != null) {
                kept.put(name, System.getenv(name));
            }
        }
        environment.clear();
        environment.putAll(kept);
        environment.putAll(variables);
        Process process = builder.start();
        process.getOutputStream().close();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getErrorStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] out = process.getInputStream().readAllBytes();
        int status = process.waitFor();
        return new Result(status, out, new String(err.get(), StandardCharsets.UTF_8));
    }

    static Result granary(Map<String, String> variables, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        return run(variables, command.toArray(String[]::new));
    }

    @Test
    void theLauncherRunsTheJarWithVersionAndUsageStatus() throws Exception {
        Result version = granary(Map.of(), "--version");
        assertEquals(0, version.status(), version.stderr());
        assertTrue(version.out().startsWith("granary "), version.out());
        assertEquals(2, granary(Map.of(), "no-such-command").status());
    }

    @Test
    void utf8NamesAreExactUnderLangC() throws Exception {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        new NarDumper().dump(tree, expected); // this JVM runs under C.UTF-8 (surefire and failsafe set it)
        for (Map<String, String> locale : List.of(Map.of("LANG", "C"), Map.of("LC_ALL", "C"), Map.<String, String>of())) {
            Result dump = granary(locale, "nar", "dump", tree.toString());
            assertEquals(0, dump.status(), locale + ": " + dump.stderr());
            assertArrayEquals(expected.toByteArray(), dump.stdout(), locale.toString());
        }
    }

    @Test
    void utf8NamesUnderLangCHashAsNixHashes() throws Exception {
        NixOracle.assumeAvailable();
        NixOracle nix = NixOracle.open(tmp.resolve("nix"));
        Result hash = granary(Map.of("LANG", "C"), "hash", "path", tree.toString());
        assertEquals(0, hash.status(), hash.stderr());
        assertEquals(nix.nixHash(tree, "sha256", true), hash.out());
    }

    @Test
    void aJvmWithoutAUtf8LocaleRefusesTheNamesInsteadOfAlteringThem() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Java's file API sees the names through the JVM's charset (the native hasher, below, does not).
        Result result = run(Map.of("LC_ALL", "C"), java, "-Dgranary.narhash=java", "-jar", JAR.toString(), "hash",
            "path", tree.toString());
        assertEquals(1, result.status(), result.stderr());
        assertTrue(result.stderr().contains("LC_ALL=C.UTF-8"), result.stderr());
        assertTrue(result.stderr().contains("%"), "the exact bytes are shown: " + result.stderr());
        assertEquals("", result.out(), "no hash of an altered tree");
    }

    @Test
    void theNativeHasherHashesTheNamesAsBytesWhateverTheJvmsCharset() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Result ascii = run(Map.of("LC_ALL", "C"), java, "-jar", JAR.toString(), "hash", "path", tree.toString());
        Result utf8 = granary(Map.of(), "hash", "path", tree.toString());
        assertEquals(0, utf8.status(), utf8.stderr());
        if (ascii.status() == 0) {
            assertEquals(utf8.out(), ascii.out(), "the native hasher reads the names' bytes, not the JVM's strings");
        } else {
            assertEquals(1, ascii.status(), ascii.stderr()); // no native hasher here: refused, as above
            assertTrue(ascii.stderr().contains("LC_ALL=C.UTF-8"), ascii.stderr());
        }
    }

    @Test
    void theLauncherMapsTheBuildsClassDataArchive() throws Exception {
        assertTrue(Files.isRegularFile(TOP.resolve("cli-verify/target/granary.jsa")), "the build makes the archive");
        Result version = granary(Map.of("GRANARY_JAVA_OPTS", "-Xlog:class+load=info:stdout"), "--version");
        assertEquals(0, version.status(), version.stderr());
        assertTrue(version.out().lines().anyMatch(line -> line.contains(" org.granary.cli.Granary source: shared objects file")),
            "Granary's own class comes from the archive:\n" + version.out());
    }

    @Test
    void aStaleOrDamagedArchiveCostsTimeButNeverTheCommand() throws Exception {
        // A copy of the layout: the launcher, a jar rebuilt since the archive (another time stamp), and
        // the archive, then the archive replaced by garbage.
        Path copy = tmp.resolve("copy");
        Files.createDirectories(copy.resolve("bin"));
        Files.createDirectories(copy.resolve("cli-verify/target"));
        Files.copy(LAUNCHER, copy.resolve("bin/granary"));
        Path jar = Files.copy(JAR, copy.resolve("cli-verify/target/granary.jar"));
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(0));
        Path archive = copy.resolve("cli-verify/target/granary.jsa");
        Files.copy(TOP.resolve("cli-verify/target/granary.jsa"), archive);
        Files.copy(TOP.resolve("cli-verify/target/granary.jsa.jvm"), copy.resolve("cli-verify/target/granary.jsa.jvm"));
        String launcher = copy.resolve("bin/granary").toString();
        for (int round = 0; round < 2; round++) {
            Result hash = run(Map.of(), launcher, "hash", "path", tree.toString());
            assertEquals(0, hash.status(), hash.stderr());
            assertEquals("", hash.stderr());
            assertEquals(granary(Map.of(), "hash", "path", tree.toString()).out(), hash.out());
            Files.delete(archive);
            Files.write(archive, "not an archive".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aNewerJvmRunsTheStoreCommandsWithoutWarnings() throws Exception {
        Path jdk = newerJdk();
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk != null, "no JDK 23 or later under /usr/lib/jvm");
        Map<String, String> env = Map.of("JAVA_HOME", jdk.toString());
        Path root = tmp.resolve("root-" + jdk.getFileName());
        Result add = granary(env, "add", "--root", root.toString(), tree.toString());
        assertEquals(0, add.status(), add.stderr());
        assertEquals("", add.stderr());
        Result query = granary(env, "query", "--root", root.toString(), "--requisites", add.out());
        assertEquals(add.out(), query.out());
        assertEquals("", query.stderr());
    }

    /** A JDK of feature version 23 or later installed next to the system's, or null. */
    private static Path newerJdk() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (var homes = Files.list(jvms)) {
            for (Path home : homes.sorted().toList()) {
                Path release = home.resolve("release");
                if (Files.isRegularFile(release) && Files.isExecutable(home.resolve("bin/java"))) {
                    var version = java.util.regex.Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)")
                        .matcher(Files.readString(release));
                    if (version.find() && Integer.parseInt(version.group(1)) >= 23) {
                        return home;
                    }
                }
            }
        }
        return null;
    }

    @Test
    void verboseShowsTheLibrarysLogAndTheDefaultDoesNot() throws Exception {
        Path root = tmp.resolve("logged");
        assertEquals(0, granary(Map.of(), "init", "--root", root.toString()).status());
        long dead = 4_000_000;
        while (ProcessHandle.of(dead).isPresent()) {
            dead++;
        }
        // What a killed addition leaves: opening the store removes it, and says so at level info.
        Path leftover = root.resolve("gnu/store/.granary-add-" + dead + "-x");
        Files.writeString(leftover, "half-written");
        Result quiet = granary(Map.of(), "init", "--root", root.toString());
        assertEquals(0, quiet.status(), quiet.stderr());
        assertEquals("", quiet.stderr());
        assertTrue(Files.notExists(leftover));
        Files.writeString(leftover, "half-written");
        Result verbose = granary(Map.of(), "-v", "init", "--root", root.toString());
        assertEquals(0, verbose.status(), verbose.stderr());
        assertEquals(List.of("INFO LocalStore - removed " + leftover
            + ", left by an addition of a process that is no longer running"), verbose.stderr().lines().toList());
    }
}
