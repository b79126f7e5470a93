package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.granary.cli.GranaryCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store commands (init, add, query, export, import) on a root of their own, run in-process. */
class StoreCommandTest {
    @TempDir
    Path tmp;

    private Run run(Path root, String command, String... rest) {
        return run(new byte[0], root, command, rest);
    }

    private Run run(byte[] stdin, Path root, String command, String... rest) {
        List<String> args = new ArrayList<>(List.of(command, "--root", root.toString()));
        args.addAll(Arrays.asList(rest));
        return GranaryCommandTest.run(new ByteArrayInputStream(stdin), args.toArray(String[]::new));
    }

    /** Runs a command that must succeed and returns its output lines. */
    private List<String> ok(Path root, String command, String... rest) {
        Run run = run(root, command, rest);
        assertEquals(0, run.status(), command + " " + String.join(" ", rest) + ": " + run.stderr());
        assertEquals("", run.stderr());
        return run.lines();
    }

    private static List<String> storePath(String... args) {
        Run run = GranaryCommandTest.run(args);
        assertEquals(0, run.status(), run.stderr());
        return run.lines();
    }

    /** What is in the physical store dir, for checking that a failure left nothing. */
    private static List<String> storeEntries(Path root) throws IOException {
        try (Stream<Path> entries = Files.list(root.resolve("gnu/store"))) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private void assertFailsWithOneLine(Run run, String mentioned) {
        assertEquals(1, run.status(), run.stderr());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertTrue(run.stderr().startsWith("granary: "), run.stderr());
        assertTrue(run.stderr().contains(mentioned), run.stderr());
        assertEquals("", run.out());
    }

    @Test
    void initCreatesTheLayoutTwiceAndPrintsNothing() {
        Path root = tmp.resolve("root");
        assertEquals(List.of(), ok(root, "init"));
        assertEquals(List.of(), ok(root, "init"));
        assertTrue(Files.isDirectory(root.resolve("gnu/store")));
        assertTrue(Files.isDirectory(root.resolve("var/guix/db/lmdb")));
        assertTrue(Files.isDirectory(root.resolve("var/guix/gcroots/auto")));
    }

    @Test
    void initWithABuildUsersGroupGivesTheStoreDirMode1775AsRootAndRefusesAGroupThatDoesNotExist()
            throws IOException {
        Path root = tmp.resolve("root");
        // A file this process creates has its effective uid.
        boolean asRoot = (Integer) Files.getAttribute(Files.createFile(tmp.resolve("probe")), "unix:uid") == 0;
        Run missing = run(root, "init", "--build-users-group", "granary-no-such-group");
        if (asRoot) {
            assertEquals(1, missing.status(), missing.stderr());
            assertTrue(missing.stderr().contains("'granary-no-such-group' does not exist"), missing.stderr());
        } else {
            assertEquals(0, missing.status(), missing.stderr()); // as the daemon: not root, nothing to do
        }
        String group = Files.readAllLines(Path.of("/etc/group")).stream().map(l -> l.split(":")[0])
            .filter(g -> !g.equals("root")).findFirst().orElseThrow();
        assertEquals(List.of(), ok(root, "init", "--build-users-group", group));
        int mode = (Integer) Files.getAttribute(root.resolve("gnu/store"), "unix:mode") & 07777;
        if (asRoot) {
            assertEquals(01775, mode);
        } else {
            assertEquals(0, mode & 07000, Integer.toOctalString(mode)); // left as created
        }
    }

    @Test
    void initHonoursTheStoreAndStateDirs() {
        Path root = tmp.resolve("root");
        Run run = run(root, "init", "--store-dir", "/nix/store", "--state-dir", "/nix/var/nix");
        assertEquals(0, run.status(), run.stderr());
        assertTrue(Files.isDirectory(root.resolve("nix/store")));
        assertTrue(Files.isDirectory(root.resolve("nix/var/nix/db/lmdb")));
    }

    @Test
    void addPrintsThePathsStorePathComputesAndTheItemsBecomeValid() throws IOException {
        Path root = tmp.resolve("root");
        Path file = Files.writeString(tmp.resolve("hello.txt"), "hello\n");
        Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
        Files.writeString(tree.resolve("file"), "contents\n");
        Files.createSymbolicLink(tree.resolve("link"), Path.of("file"));
        Path treeRoot = tmp.resolve("tree");

        List<String> added = new ArrayList<>();
        String[][] cases = {
            {"add", file.toString()}, {"store-path", "source", file.toString()},
            {"add", treeRoot.toString()}, {"store-path", "source", treeRoot.toString()},
            {"add", "--name", "renamed", file.toString()}, {"store-path", "source", "--name", "renamed", file.toString()},
            {"add", "--fixed", file.toString()}, {"store-path", "fixed", file.toString()},
            {"add", "--fixed", "--algo", "sha1", file.toString()},
                {"store-path", "fixed", "--algo", "sha1", file.toString()},
            {"add", "--fixed", "--recursive", "--algo", "md5", treeRoot.toString()},
                {"store-path", "fixed", "--recursive", "--algo", "md5", treeRoot.toString()},
            {"add", "--text", "--name", "greeting", file.toString()},
                {"store-path", "text", "--name", "greeting", file.toString()}};
        for (int i = 0; i < cases.length; i += 2) {
            String[] add = cases[i];
            List<String> printed = ok(root, add[0], Arrays.copyOfRange(add, 1, add.length));
            assertEquals(storePath(cases[i + 1]), printed, String.join(" ", add));
            added.add(printed.get(0));
        }
        List<String> validArgs = new ArrayList<>(List.of("--valid"));
        validArgs.addAll(added);
        assertEquals(List.of(), ok(root, "query", validArgs.toArray(String[]::new)));

        // The item's files are those of the source: the same NAR.
        Path inStore = root.resolve(added.get(1).substring(1));
        assertArrayEquals(GranaryCommandTest.run("nar", "dump", treeRoot.toString()).stdout(),
            GranaryCommandTest.run("nar", "dump", inStore.toString()).stdout());
        // Adding again gives the same path.
        assertEquals(List.of(added.get(0)), ok(root, "add", file.toString()));
    }

    @Test
    void addTextWithReferencesEqualsStorePathText() throws IOException {
        Path root = tmp.resolve("root");
        Path hello = Files.writeString(tmp.resolve("hello"), "hello\n");
        String greeting = ok(root, "add", "--text", "--name", "greeting", hello.toString()).get(0);
        Path refs = Files.writeString(tmp.resolve("refs"), "see " + greeting + "\n");
        List<String> added = ok(root, "add", "--text", "--name", "refs", "--ref", greeting, refs.toString());
        assertEquals(storePath("store-path", "text", "--name", "refs", "--ref", greeting, refs.toString()), added);
        assertEquals(List.of(greeting), ok(root, "query", "--references", added.get(0)));
    }

    /** a; b refers to a; c refers to a and b. */
    private List<String> smallGraph(Path root) throws IOException {
        Path fa = Files.writeString(tmp.resolve("a"), "a\n");
        String a = ok(root, "add", "--text", "--name", "a", fa.toString()).get(0);
        Path fb = Files.writeString(tmp.resolve("b"), "b " + a + "\n");
        String b = ok(root, "add", "--text", "--name", "b", "--ref", a, fb.toString()).get(0);
        Path fc = Files.writeString(tmp.resolve("c"), "c " + a + " " + b + "\n");
        String c = ok(root, "add", "--text", "--name", "c", "--ref", b, "--ref", a, fc.toString()).get(0);
        return List.of(a, b, c);
    }

    @Test
    void queryOfASmallGraph() throws IOException {
        Path root = tmp.resolve("root");
        List<String> graph = smallGraph(root);
        String a = graph.get(0);
        String b = graph.get(1);
        String c = graph.get(2);

        assertEquals(List.of(), ok(root, "query", "--valid", a, b, c));
        assertEquals(List.of(), ok(root, "query", "--references", a));
        assertEquals(List.of(a), ok(root, "query", "--references", b));
        assertEquals(List.of(a, b), ok(root, "query", "--references", c));
        assertEquals(List.of(a, b), ok(root, "query", "--references", c, b));
        assertEquals(List.of(b, c), ok(root, "query", "--referrers", a));
        assertEquals(List.of(), ok(root, "query", "--referrers", c));
        assertEquals(List.of(a, b, c), ok(root, "query", "--requisites", c));
        assertEquals(List.of(a, b), ok(root, "query", "--requisites", b));
        assertEquals(List.of(a, b, c), ok(root, "query", "--referrers-closure", a));
        assertEquals(List.of(b, c), ok(root, "query", "--referrers-closure", b));
        assertEquals(List.of("unknown-deriver", "unknown-deriver"), ok(root, "query", "--deriver", a, b));

        // Hash and size: those of the NAR of the item's files.
        List<String> hashes = new ArrayList<>();
        List<String> sizes = new ArrayList<>();
        for (String path : List.of(c, a)) {
            Path physical = root.resolve(path.substring(1));
            hashes.add("sha256:" + GranaryCommandTest.run("hash", "path", physical.toString()).out().strip());
            sizes.add(Integer.toString(GranaryCommandTest.run("nar", "dump", physical.toString()).stdout().length));
        }
        assertEquals(hashes, ok(root, "query", "--hash", c, a));
        assertEquals(sizes, ok(root, "query", "--size", c, a));

        List<String> info = ok(root, "query", "--info", c);
        assertEquals("Path: " + c, info.get(0));
        assertTrue(info.contains("NarHash: " + hashes.get(0)), info.toString());
        assertTrue(info.contains("NarSize: " + sizes.get(0)), info.toString());
        assertTrue(info.contains("References: " + String.join(" ", new java.util.TreeSet<>(List.of(a, b)))),
            info.toString());
        assertTrue(info.contains("Deriver: "), info.toString());
        assertTrue(info.contains("Signatures: "), info.toString());
        assertTrue(info.stream().anyMatch(l -> l.matches("Registered: \\d{4}-\\d\\d-\\d\\dT.*Z")), info.toString());
        for (String line : info) {
            assertTrue(line.matches("[A-Za-z]+: ?.*"), line);
        }
    }

    @Test
    void exportThenImportIntoAnotherRootGivesTheSamePathsAndHashes() throws IOException {
        Path root = tmp.resolve("root");
        List<String> graph = smallGraph(root);
        String a = graph.get(0);
        String b = graph.get(1);
        String c = graph.get(2);

        Run export = run(root, "export", c, b, a);
        assertEquals(0, export.status(), export.stderr());
        Path other = tmp.resolve("other");
        Run imported = run(export.stdout(), other, "import");
        assertEquals(0, imported.status(), imported.stderr());
        assertEquals(List.of(a, b, c), imported.lines());
        assertEquals(ok(root, "query", "--hash", a, b, c), ok(other, "query", "--hash", a, b, c));
        assertEquals(List.of(a, b), ok(other, "query", "--references", c));

        // Exactly the paths given, not their closure: b alone cannot be imported into an empty store.
        Run onlyB = run(root, "export", b);
        assertEquals(0, onlyB.status(), onlyB.stderr());
        Path third = tmp.resolve("third");
        ok(third, "init");
        assertFailsWithOneLine(run(onlyB.stdout(), third, "import"), a);
        assertEquals(List.of(), storeEntries(third));
    }

    @Test
    void aCorruptExportFailsWithOneLineAndLeavesTheStoreAsItWas() throws IOException {
        Path root = tmp.resolve("root");
        String a = smallGraph(root).get(0);
        byte[] export = run(root, "export", a).stdout();
        Path other = tmp.resolve("other");
        ok(other, "init");

        // The padding after the file's contents "a\n" must be zero: a malformed NAR.
        byte[] changed = export.clone();
        int at = indexOf(changed, "a\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(0, changed[at + 2]);
        changed[at + 2] = 1;
        assertFailsWithOneLine(run(changed, other, "import"), "offset");
        assertEquals(List.of(), storeEntries(other));

        // Truncated in the middle.
        byte[] truncated = Arrays.copyOf(export, export.length / 2);
        Run run = run(truncated, other, "import");
        assertEquals(1, run.status());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertEquals(List.of(), storeEntries(other));
        assertEquals(1, run(other, "query", "--valid", a).status());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void unknownPathsFailWithOneLineNamingThem() throws IOException {
        Path root = tmp.resolve("root");
        String a = smallGraph(root).get(0);
        List<String> before = storeEntries(root);
        String unknown = "/gnu/store/00000000000000000000000000000000-unknown";

        Run valid = run(root, "query", "--valid", a, unknown);
        assertFailsWithOneLine(valid, unknown);
        for (String kind : List.of("--references", "--referrers", "--requisites", "--referrers-closure", "--hash",
                "--size", "--deriver", "--info")) {
            assertFailsWithOneLine(run(root, "query", kind, unknown), unknown);
        }
        Run export = run(root, "export", a, unknown);
        assertEquals(1, export.status());
        assertEquals(0, export.stdout().length);
        assertTrue(export.stderr().contains(unknown), export.stderr());

        Path file = Files.writeString(tmp.resolve("refers"), "x\n");
        assertFailsWithOneLine(run(root, "add", "--text", "--name", "refers", "--ref", unknown, file.toString()),
            unknown);
        assertFailsWithOneLine(run(root, "add", tmp.resolve("missing").toString()), "missing");
        assertEquals(before, storeEntries(root));
    }

    @Test
    void aPathOutsideTheStoreFailsWithOneLine() throws IOException {
        Path root = tmp.resolve("root");
        ok(root, "init");
        String outside = tmp.resolve("a").toString();
        assertFailsWithOneLine(run(root, "query", "--valid", outside), outside);
        assertFailsWithOneLine(run(root, "query", "--requisites", outside), outside);
        assertFailsWithOneLine(run(root, "export", outside), outside);
        Path file = Files.writeString(tmp.resolve("f"), "x\n");
        assertFailsWithOneLine(run(root, "add", "--text", "--name", "f", "--ref", outside, file.toString()), outside);
        assertEquals(List.of(), storeEntries(root));
    }

    @Test
    void optionsThatDoNotGoTogetherAreUsageErrors() throws IOException {
        Path root = tmp.resolve("root");
        Path file = Files.writeString(tmp.resolve("f"), "x\n");
        String path = "/gnu/store/00000000000000000000000000000000-x";
        for (String[] args : List.of(
                new String[] {"add", "--recursive", file.toString()},
                new String[] {"add", "--algo", "sha1", file.toString()},
                new String[] {"add", "--fixed", "--text", "--name", "f", file.toString()},
                new String[] {"add", "--text", file.toString()},
                new String[] {"add", "--ref", path, file.toString()},
                new String[] {"query", path},
                new String[] {"query", "--hash", "--size", path},
                new String[] {"query", "--hash"},
                new String[] {"export"})) {
            Run run = run(root, args[0], Arrays.copyOfRange(args, 1, args.length));
            assertEquals(2, run.status(), String.join(" ", args) + ": " + run.stderr());
            assertTrue(run.stderr().contains("--help"), run.stderr());
        }
        assertTrue(!Files.exists(root), "a usage error opened the store");
    }
}
