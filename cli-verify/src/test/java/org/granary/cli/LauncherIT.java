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
        Result result = run(Map.of("LC_ALL", "C"), java, "-jar", JAR.toString(), "hash", "path", tree.toString());
        assertEquals(1, result.status(), result.stderr());
        assertTrue(result.stderr().contains("LC_ALL=C.UTF-8"), result.stderr());
        assertTrue(result.stderr().contains("%"), "the exact bytes are shown: " + result.stderr());
        assertEquals("", result.out(), "no hash of an altered tree");
    }
}
