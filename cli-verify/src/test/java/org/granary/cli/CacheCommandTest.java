package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.granary.cli.GranaryCommandTest.Run;
import org.granary.nar.NarDumper;
import org.granary.store.StorePath;
import org.granary.verify.cache.BinaryCache;
import org.granary.verify.cache.NarInfo;
import org.granary.verify.cache.TrustedKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code granary cache keygen} and {@code granary cache push}, run in-process. */
class CacheCommandTest {
    @TempDir
    Path tmp;

    @Test
    void keygenWritesNixsKeyFormatsWithAnOwnerOnlySecret() throws IOException {
        Path secret = tmp.resolve("k.sec");
        Path pub = tmp.resolve("k.pub");
        Run run = GranaryCommandTest.run("cache", "keygen", "cache.example.org-1", secret.toString(), pub.toString());
        assertEquals(0, run.status(), run.stderr());
        assertTrue(Files.readString(secret).matches("cache\\.example\\.org-1:[A-Za-z0-9+/]{86}=="), Files.readString(secret));
        assertTrue(Files.readString(pub).matches("cache\\.example\\.org-1:[A-Za-z0-9+/]{43}="), Files.readString(pub));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
        Run again = GranaryCommandTest.run("cache", "keygen", "other-1", secret.toString(), tmp.resolve("o.pub").toString());
        assertEquals(1, again.status(), again.stderr());
        assertTrue(again.stderr().contains(secret.toString()), again.stderr());
    }

    @Test
    void pushWritesASignedCacheOfTheClosureThatReadsBack() throws IOException {
        Path root = tmp.resolve("root");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("file"), "contents\n");
        String tree = ok("add", "--root", root.toString(), src.toString()).get(0);
        Path text = Files.writeString(tmp.resolve("text"), "see " + tree + "\n");
        String top = ok("add", "--root", root.toString(), "--text", "--name", "top", "--ref", tree, text.toString()).get(0);
        ok("cache", "keygen", "test-1", tmp.resolve("k.sec").toString(), tmp.resolve("k.pub").toString());
        Path cache = tmp.resolve("cache");

        List<String> pushed = ok("cache", "push", "--root", root.toString(), "--key", tmp.resolve("k.sec").toString(),
            "--compression", "lzip", "--closure", cache.toString(), top);
        assertEquals(List.of(tree, top).stream().sorted().toList(), pushed.stream().sorted().toList());

        BinaryCache read = BinaryCache.open("file://" + cache, "/gnu/store",
            TrustedKeys.parse(List.of(Files.readString(tmp.resolve("k.pub")))));
        for (String path : pushed) {
            var substitute = read.lookup(StorePath.parse(path, "/gnu/store")).orElseThrow();
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            new NarDumper().dump(root.resolve(path.substring(1)), expected);
            try (InputStream in = substitute.openNar()) {
                assertArrayEquals(expected.toByteArray(), in.readAllBytes(), path);
            }
        }
        String narinfo = Files.readString(cache.resolve(StorePath.parse(top, "/gnu/store").hashPart() + ".narinfo"));
        NarInfo info = NarInfo.parse(narinfo, "/gnu/store", "top");
        assertEquals("lzip", info.files().get(0).compression());
        assertEquals(1, info.sigs().size());
    }

    @Test
    void pushRefusesAnUnknownCompressionAsAUsageError() {
        Run run = GranaryCommandTest.run("cache", "push", "--root", tmp.resolve("root").toString(),
            "--compression", "br", tmp.resolve("cache").toString(), "/gnu/store/" + "a".repeat(32) + "-x");
        assertEquals(2, run.status(), run.stderr());
        assertTrue(run.stderr().contains("unknown compression 'br'"), run.stderr());
    }

    @Test
    void pushOfAnInvalidPathFailsNamingIt() {
        String path = "/gnu/store/" + "a".repeat(32) + "-absent";
        Run run = GranaryCommandTest.run("cache", "push", "--root", tmp.resolve("root").toString(),
            tmp.resolve("cache").toString(), path);
        assertEquals(1, run.status(), run.stderr());
        assertTrue(run.stderr().startsWith("granary: ") && run.stderr().contains(path), run.stderr());
    }

    private static List<String> ok(String... args) {
        Run run = GranaryCommandTest.run(args);
        assertEquals(0, run.status(), String.join(" ", args) + ": " + run.stderr());
        return run.lines();
    }
}
