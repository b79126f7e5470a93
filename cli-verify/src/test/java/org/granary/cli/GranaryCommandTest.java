package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's behaviour: output, exit status and messages, run in-process. */
class GranaryCommandTest {
    @TempDir
    Path tmp;

    /** What one run printed and returned. */
    record Run(int status, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        List<String> lines() {
            return out().lines().toList();
        }
    }

    static Run run(InputStream stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Granary.run(args, stdin, out, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(String... args) {
        return run(InputStream.nullInputStream(), args);
    }

    private Path helloTxt() throws IOException {
        return Files.writeString(tmp.resolve("hello.txt"), "hello\n");
    }

    @Test
    void versionPrintsTheNameAndSucceeds() {
        Run run = run("--version");
        assertEquals(0, run.status());
        assertTrue(run.out().startsWith("granary "), run.out());
    }

    @Test
    void everyCommandHasHelpWithAnExample() {
        for (String[] command : List.of(
                new String[] {}, new String[] {"nar"}, new String[] {"nar", "dump"},
                new String[] {"nar", "restore"}, new String[] {"hash"}, new String[] {"hash", "path"},
                new String[] {"hash", "file"}, new String[] {"store-path"},
                new String[] {"store-path", "source"}, new String[] {"store-path", "text"},
                new String[] {"store-path", "fixed"}, new String[] {"init"}, new String[] {"add"},
                new String[] {"query"}, new String[] {"export"}, new String[] {"import"},
                new String[] {"db"}, new String[] {"db", "import"})) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "--help";
            Run run = run(args);
            assertEquals(0, run.status(), String.join(" ", args));
            assertTrue(run.out().contains("Usage:"), run.out());
            assertTrue(run.out().contains("Example"), "no example in help of " + String.join(" ", command));
        }
    }

    @Test
    void unknownOptionIsAUsageErrorWithStatus2() {
        Run run = run("hash", "path", "--bogus", "x");
        assertEquals(2, run.status());
        assertTrue(run.stderr().startsWith("granary: "), run.stderr());
        assertTrue(run.stderr().contains("--help"), run.stderr());
    }

    @Test
    void unknownAlgorithmIsAUsageError() {
        Run run = run("hash", "path", "--algo", "sha3", "x");
        assertEquals(2, run.status());
        assertTrue(run.stderr().contains("sha3"), run.stderr());
    }

    @Test
    void hashPathPrintsNixBase32Sha256ByDefault() throws IOException {
        Run run = run("hash", "path", helloTxt().toString());
        assertEquals(0, run.status(), run.stderr());
        // The NAR of a file "hello\n": store-facts.md §3, checked against nix-hash.
        assertEquals(List.of("04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"), run.lines());
    }

    @Test
    void hashPathHonoursAlgorithmAndFormat() throws IOException {
        Path file = helloTxt();
        assertEquals(List.of("1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13"),
            run("hash", "path", "--format", "base16", file.toString()).lines());
        assertEquals(List.of("0deb52c2735eb38d360f976b7b3823c4ad05cce7"),
            run("hash", "path", "--algo", "sha1", "--format", "base16", file.toString()).lines());
        assertEquals(List.of("sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM="),
            run("hash", "path", "--format", "sri", file.toString()).lines());
    }

    @Test
    void hashPathPrintsOneLinePerPathInTheOrderGiven() throws IOException {
        Path a = Files.writeString(tmp.resolve("a"), "a");
        Path big = tmp.resolve("big");
        Files.write(big, new byte[8 << 20]);
        Path hello = helloTxt();
        String one = run("hash", "path", a.toString()).out();
        String two = run("hash", "path", big.toString()).out();
        String three = run("hash", "path", hello.toString()).out();
        Run all = run("hash", "path", big.toString(), a.toString(), hello.toString(), big.toString());
        assertEquals(0, all.status(), all.stderr());
        assertEquals(two + one + three + two, all.out());
    }

    @Test
    void hashPathOfAMissingPathNamesItAndFailsButHashesTheOthers() throws IOException {
        Path missing = tmp.resolve("missing");
        Run run = run("hash", "path", helloTxt().toString(), missing.toString());
        assertEquals(1, run.status());
        assertEquals(List.of("04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"), run.lines());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertTrue(run.stderr().contains(missing.toString()), run.stderr());
    }

    @Test
    void hashFileIsTheFlatHashOfTheContents() throws IOException {
        Run run = run("hash", "file", "--format", "base16", helloTxt().toString());
        assertEquals(List.of("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"), run.lines());
    }

    @Test
    void narDumpThenRestoreGivesTheSameTree() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Files.writeString(tree.resolve("file"), "contents\n");
        Path script = Files.writeString(tree.resolve("script"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(tree.resolve("link"), Path.of("file"));
        Files.createDirectories(tree.resolve("sub/empty"));

        Run dump = run("nar", "dump", tree.toString());
        assertEquals(0, dump.status(), dump.stderr());
        Path copy = tmp.resolve("copy");
        Run restore = run(new ByteArrayInputStream(dump.stdout()), "nar", "restore", copy.toString());
        assertEquals(0, restore.status(), restore.stderr());
        assertArrayEquals(dump.stdout(), run("nar", "dump", copy.toString()).stdout());
        assertEquals("file", Files.readSymbolicLink(copy.resolve("link")).toString());
    }

    @Test
    void narRestoreOfAMalformedNarFailsNamingTheOffsetAndLeavesNothing() throws IOException {
        byte[] nar = run("nar", "dump", helloTxt().toString()).stdout();
        nar[nar.length - 1] = 1; // the padding of the closing ")" must be zero
        Path target = tmp.resolve("out");
        Run run = run(new ByteArrayInputStream(nar), "nar", "restore", target.toString());
        assertEquals(1, run.status());
        assertTrue(run.stderr().contains("offset"), run.stderr());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertFalse(Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void narRestoreRefusesAnExistingTarget() throws IOException {
        byte[] nar = run("nar", "dump", helloTxt().toString()).stdout();
        Path target = Files.createDirectory(tmp.resolve("exists"));
        Run run = run(new ByteArrayInputStream(nar), "nar", "restore", target.toString());
        assertEquals(1, run.status());
        assertTrue(run.stderr().contains(target.toString()), run.stderr());
    }

    @Test
    void verboseAddsTheStackTrace() {
        Run run = run("--verbose", "hash", "file", tmp.resolve("missing").toString());
        assertEquals(1, run.status());
        assertTrue(run.stderr().lines().count() > 1, run.stderr());
    }

    @Test
    void storePathsOfTheWorkedExamples() throws IOException {
        Path file = helloTxt();
        assertEquals("/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt",
            run("store-path", "source", file.toString()).out().strip());
        assertEquals("/gnu/store/wxykb3w2hprzmc82c32q49pfzwx2drsa-hello.txt",
            run("store-path", "fixed", file.toString()).out().strip());
        assertEquals("/gnu/store/5wddm721lfb1hk5777564v2hqknvnm3f-hello.txt",
            run("store-path", "fixed", "--recursive", "--algo", "sha1", file.toString()).out().strip());
        assertEquals("/gnu/store/iqfx25xdw6zflfihi1n8a8p3dxclgakz-greeting",
            run("store-path", "text", "--name", "greeting", file.toString()).out().strip());
        Path refs = Files.writeString(tmp.resolve("refs"),
            "see /gnu/store/iqfx25xdw6zflfihi1n8a8p3dxclgakz-greeting\n");
        assertEquals("/gnu/store/v9pw4v9qfqzpfia4jgm7q6sm7jkyqz4m-refs",
            run("store-path", "text", "--ref", "/gnu/store/iqfx25xdw6zflfihi1n8a8p3dxclgakz-greeting",
                refs.toString()).out().strip());
    }

    @Test
    void storePathRefusesANameGuixRejects() throws IOException {
        Run run = run("store-path", "source", "--name", ".hidden", helloTxt().toString());
        assertEquals(1, run.status());
        assertTrue(run.stderr().contains(".hidden"), run.stderr());
    }

    @Test
    void storePathFixedFlatOfADirectoryExplainsRecursive() {
        Run run = run("store-path", "fixed", tmp.toString());
        assertEquals(1, run.status());
        assertTrue(run.stderr().contains("--recursive"), run.stderr());
    }
}
