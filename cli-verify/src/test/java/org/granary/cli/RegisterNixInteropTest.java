package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.granary.nar.testing.NixOracle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code nix-store --dump-db} of a small Nix store loads with {@code granary register --hash-given}. */
class RegisterNixInteropTest {
    @TempDir
    Path tmp;

    private static List<String> granary(byte[] stdin, String... args) {
        GranaryCommandTest.Run run = GranaryCommandTest.run(new ByteArrayInputStream(stdin), args);
        assertEquals(0, run.status(), String.join(" ", args) + ": " + run.stderr());
        assertEquals("", run.stderr());
        return run.lines();
    }

    private static TreeSet<String> lines(String text) {
        return new TreeSet<>(text.lines().toList());
    }

    @Test
    void theDumpOfANixStoreLoadsAndQueriesAnswerAsNix() throws IOException {
        NixOracle.assumeAvailable();
        NixOracle nix = NixOracle.open(tmp.resolve("nix"));
        String a = nix.toFile("a", "leaf\n");
        String b = nix.toFile("b", "uses " + a + "\n", a);
        String c = nix.toFile("c", "uses " + a + " and " + b + "\n", a, b);
        String d = nix.toFile("d", "only " + b + "\n", b);
        String dump = nix.nixStore("--dump-db");
        assertTrue(dump.contains(c + "\n"), dump);

        String root = tmp.resolve("granary").toString();
        assertEquals(List.of(), granary(dump.getBytes(StandardCharsets.UTF_8), "register", "--root", root,
            "--hash-given"));

        for (String path : List.of(a, b, c, d)) {
            assertEquals(lines(nix.nixStore("--query", "--references", path)),
                new TreeSet<>(granary(new byte[0], "query", "--root", root, "--references", path)), path);
            assertEquals(lines(nix.nixStore("--query", "--referrers", path)),
                new TreeSet<>(granary(new byte[0], "query", "--root", root, "--referrers", path)), path);
            assertEquals(nix.nixStore("--query", "--hash", path).lines().toList(),
                granary(new byte[0], "query", "--root", root, "--hash", path), path);
            assertEquals(nix.nixStore("--query", "--size", path).lines().toList(),
                granary(new byte[0], "query", "--root", root, "--size", path), path);
        }
        assertEquals(nix.nixStore("--query", "--requisites", c, d).lines().toList(),
            granary(new byte[0], "query", "--root", root, "--requisites", c, d));
    }
}
