package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.granary.cli.GranaryCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code granary register}, with and without {@code --hash-given}, run in-process on a root of its own. */
class RegisterCommandTest {
    private static final String A = "/gnu/store/0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a-a";
    private static final String B = "/gnu/store/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b-b";
    private static final String C = "/gnu/store/2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c-c";
    private static final String D = "/gnu/store/3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d-c.drv";
    private static final String MISSING = "/gnu/store/4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f-missing";
    private static final String HASH_A = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private static final String HASH_B = "sha256:" + "1".repeat(52);
    private static final String HASH_C = "a".repeat(64);

    @TempDir
    Path tmp;

    private Run run(String stdin, Path root, String command, String... rest) {
        List<String> args = new ArrayList<>(List.of(command, "--root", root.toString()));
        args.addAll(Arrays.asList(rest));
        return GranaryCommandTest.run(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            args.toArray(String[]::new));
    }

    private List<String> ok(String stdin, Path root, String command, String... rest) {
        Run run = run(stdin, root, command, rest);
        assertEquals(0, run.status(), command + " " + String.join(" ", rest) + ": " + run.stderr());
        assertEquals("", run.stderr());
        return run.lines();
    }

    private static String dump() {
        return A + "\n" + HASH_A + "\n100\n\n1\n" + A + "\n"
            + C + "\n" + HASH_C + "\n300\n" + D + "\n2\n" + B + "\n" + A + "\n"
            + B + "\n" + HASH_B + "\n200\n\n1\n" + A + "\n";
    }

    private void assertNothingValid(Path root, String... paths) {
        for (String path : paths) {
            assertEquals(1, run("", root, "query", "--valid", path).status(), path);
        }
    }

    @Test
    void hashGivenRegistersTheGraphAsGivenAndQueriesSeeIt() {
        Path root = tmp.resolve("root");
        assertEquals(List.of(), ok(dump(), root, "register", "--hash-given"));
        assertEquals(List.of(), ok("", root, "query", "--valid", A, B, C));
        assertEquals(List.of(A, B), ok("", root, "query", "--references", C));
        assertEquals(List.of(A), ok("", root, "query", "--references", A));
        assertEquals(List.of(A, B, C), ok("", root, "query", "--requisites", C));
        assertEquals(List.of(A, B, C), ok("", root, "query", "--referrers", A));
        assertEquals(List.of("sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
                "sha256:" + "1".repeat(52)),
            ok("", root, "query", "--hash", A, B));
        assertEquals(List.of("100", "200", "300"), ok("", root, "query", "--size", A, B, C));
        assertEquals(List.of("unknown-deriver", D), ok("", root, "query", "--deriver", A, C));
        // The files were not read: there are none.
        assertTrue(!Files.exists(root.resolve(A.substring(1))));
    }

    @Test
    void regInfoHashesAndCanonicalisesTheFilesInTheStore() throws IOException {
        Path root = tmp.resolve("root");
        ok("", root, "init");
        Path a = Files.writeString(root.resolve(A.substring(1)), "hello\n");
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rwxrw-rw-"));
        Path b = Files.createDirectory(root.resolve(B.substring(1)));
        Files.writeString(b.resolve("ref"), A + "\n");
        Files.createSymbolicLink(b.resolve("link"), Path.of(A));
        String regInfo = B + "\n\n1\n" + A + "\n" + A + "\n\n0\n";

        assertEquals(List.of(), ok(regInfo, root, "register"));

        assertEquals(List.of(A), ok("", root, "query", "--requisites", A));
        assertEquals(List.of(A, B), ok("", root, "query", "--requisites", B));
        for (Path item : List.of(a, b)) {
            Run hash = GranaryCommandTest.run("hash", "path", item.toString());
            assertEquals(0, hash.status(), hash.stderr());
            String logical = "/" + root.relativize(item);
            assertEquals(List.of("sha256:" + hash.lines().get(0)), ok("", root, "query", "--hash", logical));
            Run dump = GranaryCommandTest.run("nar", "dump", item.toString());
            assertEquals(List.of(Integer.toString(dump.stdout().length)), ok("", root, "query", "--size", logical));
        }
        // Canonical: mtime 1, no write bits, the executable bit kept.
        assertEquals(FileTime.fromMillis(1000), Files.getLastModifiedTime(a, LinkOption.NOFOLLOW_LINKS));
        assertEquals("r-xr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(b.resolve("ref"))));
    }

    @Test
    void regInfoLeavesPathsThatAreValidAloneAsRegisterValidityDoes() throws IOException {
        Path root = tmp.resolve("root");
        ok("", root, "init");
        Path a = Files.writeString(root.resolve(A.substring(1)), "hello\n");
        assertEquals(List.of(), ok(A + "\n\n0\n", root, "register"));
        List<String> hash = ok("", root, "query", "--hash", A);
        List<String> info = ok("", root, "query", "--info", A);

        // Changed behind the store's back: registering again neither rehashes nor canonicalises it
        // (nix-store --register-validity skips valid paths), while a new path in the same input is added.
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rw-r--r--"));
        Files.writeString(a, "changed\n");
        FileTime mtime = Files.getLastModifiedTime(a, LinkOption.NOFOLLOW_LINKS);
        Path b = Files.writeString(root.resolve(B.substring(1)), A + "\n");
        assertEquals(List.of(), ok(A + "\n\n0\n" + B + "\n\n1\n" + A + "\n", root, "register"));

        assertEquals(hash, ok("", root, "query", "--hash", A));
        assertEquals(info, ok("", root, "query", "--info", A));
        assertEquals(mtime, Files.getLastModifiedTime(a, LinkOption.NOFOLLOW_LINKS));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
        assertEquals(List.of(A, B), ok("", root, "query", "--requisites", B));
        assertEquals(FileTime.fromMillis(1000), Files.getLastModifiedTime(b, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aReferenceNeitherGivenNorValidIsRefusedByNameAndNothingIsRegistered() throws IOException {
        Path root = tmp.resolve("root");
        String dump = dump() + D + "\n" + HASH_A + "\n5\n\n1\n" + MISSING + "\n";
        Run run = run(dump, root, "register", "--hash-given");
        assertEquals(1, run.status(), run.stderr());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertTrue(run.stderr().startsWith("granary: ") && run.stderr().contains(MISSING), run.stderr());
        assertNothingValid(root, A, B, C, D);

        // Without --hash-given the files are not even touched.
        ok("", root, "init");
        Path a = Files.writeString(root.resolve(A.substring(1)), "hello\n");
        FileTime mtime = Files.getLastModifiedTime(a);
        run = run(A + "\n\n1\n" + MISSING + "\n", root, "register");
        assertEquals(1, run.status(), run.stderr());
        assertTrue(run.stderr().contains(MISSING), run.stderr());
        assertEquals(mtime, Files.getLastModifiedTime(a));
        assertNothingValid(root, A);
    }

    @Test
    void malformedInputIsRefusedWithItsLineNumberAndNothingIsRegistered() {
        Path root = tmp.resolve("root");
        String[][] cases = {
            {dump().replace("\n300\n", "\n3x0\n"), "line 9: expected the NAR size"},
            {dump().substring(0, dump().length() - 1), "line 19: unexpected end of input"},
            {dump().replace(HASH_C, "zz"), "line 8: expected the NAR hash"},
            {dump() + "/nix/store/" + "5".repeat(32) + "-x\n", "line 20: expected a store path in /gnu/store"}};
        for (String[] c : cases) {
            Run run = run(c[0], root, "register", "--hash-given");
            assertEquals(1, run.status(), run.stderr());
            assertEquals(1, run.stderr().lines().count(), run.stderr());
            assertTrue(run.stderr().startsWith("granary: registration input " + c[1]), run.stderr());
            assertNothingValid(root, A, B, C);
        }
        Run run = run(A + "\n\nmany\n", root, "register");
        assertTrue(run.stderr().contains("line 3: expected the number of references"), run.stderr());
    }
}
