package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.granary.nar.testing.NixOracle;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code granary} command against real Nix on the same inputs: hashes as {@code nix-hash}, store paths
 * as {@code nix-store --add}, {@code --add-fixed [--recursive]} and {@code builtins.toFile}.
 */
class GranaryNixInteropTest {
    @TempDir
    static Path tmp;

    static NixOracle nix;
    static List<TestTrees.Tree> trees;

    @BeforeAll
    static void setUp() throws IOException {
        NixOracle.assumeAvailable();
        nix = NixOracle.open(tmp.resolve("nix"));
        trees = TestTrees.standard(Files.createDirectory(tmp.resolve("trees")));
    }

    /** Real directories of this machine, next to the generated trees. */
    private static List<Path> realDirectories() throws IOException {
        return List.of(Path.of(System.getProperty("java.home")).toRealPath(), Path.of("/usr/share/doc").toRealPath());
    }

    private static List<String> granary(String... args) {
        GranaryCommandTest.Run run = GranaryCommandTest.run(args);
        assertEquals(0, run.status(), String.join(" ", args) + ": " + run.stderr());
        return run.lines();
    }

    @Test
    void hashPathOfManyTreesInOneCallEqualsNixHashOfEach() throws IOException {
        List<String> args = new ArrayList<>(List.of("hash", "path"));
        List<String> expected = new ArrayList<>();
        for (TestTrees.Tree tree : trees) {
            args.add(tree.path().toString());
            expected.add(nix.nixHash(tree.path(), "sha256", true));
        }
        for (Path dir : realDirectories()) {
            args.add(dir.toString());
            expected.add(nix.nixHash(dir, "sha256", true));
        }
        assertEquals(expected, granary(args.toArray(String[]::new)));
    }

    @Test
    void hashPathInEveryAlgorithmAndBase16EqualsNixHash() throws IOException {
        for (String algo : List.of("md5", "sha1", "sha256", "sha512")) {
            for (TestTrees.Tree tree : trees) {
                assertEquals(List.of(nix.nixHash(tree.path(), algo, false)),
                    granary("hash", "path", "--algo", algo, "--format", "base16", tree.path().toString()),
                    algo + " of " + tree);
            }
        }
    }

    @Test
    void hashFileEqualsNixHashFlat() throws IOException {
        for (Path file : regularFiles()) {
            for (String algo : List.of("md5", "sha1", "sha256", "sha512")) {
                assertEquals(List.of(nix.nixHashFlat(file, algo, true)),
                    granary("hash", "file", "--algo", algo, file.toString()), algo + " of " + file);
            }
        }
    }

    @Test
    void storePathSourceEqualsNixStoreAdd() throws IOException {
        for (Path item : addableItems()) {
            assertEquals(List.of(nix.addSource(item)), granary("store-path", "source", item.toString()),
                item.toString());
        }
    }

    @Test
    void storePathFixedRecursiveEqualsNixStoreAddFixedRecursive() throws IOException {
        for (Path item : addableItems()) {
            for (String algo : List.of("md5", "sha1", "sha256", "sha512")) {
                assertEquals(List.of(nix.addFixed(algo, true, item)),
                    granary("store-path", "fixed", "--recursive", "--algo", algo, item.toString()),
                    algo + " of " + item);
            }
        }
    }

    @Test
    void storePathFixedFlatEqualsNixStoreAddFixed() throws IOException {
        for (Path file : regularFiles()) {
            for (String algo : List.of("md5", "sha1", "sha256", "sha512")) {
                assertEquals(List.of(nix.addFixed(algo, false, file)),
                    granary("store-path", "fixed", "--algo", algo, file.toString()), algo + " of " + file);
            }
        }
    }

    @Test
    void storePathTextEqualsBuiltinsToFileWithReferences() throws IOException {
        String greeting = nix.toFile("greeting", "hello\n");
        String second = nix.toFile("second", "second\n");
        String refs = "see " + greeting + " and " + second + "\n";
        String[][] cases = {{"greeting", "hello\n"}, {"empty", ""}, {"refs", refs}};
        for (String[] c : cases) {
            Path file = Files.writeString(tmp.resolve("text-" + c[0]), c[1]);
            List<String> args = new ArrayList<>(List.of("store-path", "text", "--name", c[0]));
            String expected;
            if (c[0].equals("refs")) {
                // Given in the opposite order: the fingerprint sorts them.
                args.addAll(List.of("--ref", second, "--ref", greeting));
                expected = nix.toFile(c[0], c[1], greeting, second);
            } else {
                expected = nix.toFile(c[0], c[1]);
            }
            args.add(file.toString());
            assertEquals(List.of(expected), granary(args.toArray(String[]::new)), c[0]);
        }
    }

    @Test
    void addOfGeneratedTreesEqualsNixStoreAddWithTheSameHashAndExport() throws IOException {
        Path root = tmp.resolve("granary-root");
        for (Path item : addableItems()) {
            String expected = nix.addSource(item);
            assertEquals(List.of(expected), granary("add", "--root", root.toString(), item.toString()), item.toString());
            assertEquals(List.of(nix.nixStore("--query", "--hash", expected).strip()),
                granary("query", "--root", root.toString(), "--hash", expected), item.toString());
            byte[] ours = GranaryCommandTest.run("export", "--root", root.toString(), expected).stdout();
            byte[] theirs;
            try (java.io.InputStream export = nix.openNixStore("--export", expected)) {
                theirs = export.readAllBytes();
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(theirs, ours, "export of " + item);
        }
    }

    @Test
    void importOfNixStoreExportGivesNixsPathsAndReferences() throws IOException {
        String greeting = nix.toFile("import-greeting", "hello\n");
        String refs = nix.toFile("import-refs", "see " + greeting + "\n", greeting);
        Path export = tmp.resolve("nix.export");
        try (java.io.InputStream in = nix.openNixStore("--export", greeting, refs)) {
            Files.write(export, in.readAllBytes());
        }
        Path root = tmp.resolve("import-root");
        GranaryCommandTest.Run imported = GranaryCommandTest.run(
            new java.io.ByteArrayInputStream(Files.readAllBytes(export)), "import", "--root", root.toString());
        assertEquals(0, imported.status(), imported.stderr());
        assertEquals(List.of(greeting, refs), imported.lines());
        assertEquals(nix.nixStore("--query", "--references", refs).lines().toList(),
            granary("query", "--root", root.toString(), "--references", refs));
        assertEquals(nix.nixStore("--query", "--hash", greeting, refs).lines().toList(),
            granary("query", "--root", root.toString(), "--hash", greeting, refs));
    }

    /** Generated trees whose base names Guix accepts as item names, plus one with an explicit name. */
    private static List<Path> addableItems() throws IOException {
        List<Path> items = new ArrayList<>();
        for (TestTrees.Tree tree : trees) {
            if (tree.path().getFileName().toString().matches("[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*")) {
                items.add(tree.path());
            }
        }
        items.addAll(regularFiles());
        return items;
    }

    /** Regular files of several sizes and modes. */
    private static List<Path> regularFiles() throws IOException {
        Path dir = tmp.resolve("files");
        if (!Files.isDirectory(dir)) {
            Files.createDirectory(dir);
            TestTrees.regular(dir.resolve("empty"), 0, 0644);
            TestTrees.regular(dir.resolve("seven"), 7, 0644);
            TestTrees.regular(dir.resolve("exec"), 4097, 0755);
            TestTrees.regular(dir.resolve("big"), 300_001, 0444);
        }
        try (var files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    @Test
    void dbImportOfNixsSqliteGivesTheReferencesAndHashesNixReports() throws IOException {
        String leaf = nix.toFile("db-import-leaf", "leaf text");
        String top = nix.toFile("db-import-top", "uses " + leaf, leaf);
        Path source = nix.stateDir().resolve("db/db.sqlite");
        byte[] before = Files.readAllBytes(source);
        Path root = tmp.resolve("db-import-root");
        List<String> printed = granary("db", "import", "--root", root.toString(), "--sqlite", source.toString());
        assertEquals(1, printed.size(), printed.toString());
        assertTrue(printed.get(0).matches("imported [0-9]+ paths and [0-9]+ references"), printed.get(0));
        assertEquals(List.of(leaf), granary("query", "--root", root.toString(), "--references", top));
        assertEquals(List.of(nix.nixStore("--query", "--hash", top).strip()),
            granary("query", "--root", root.toString(), "--hash", top));
        assertEquals(nix.nixStore("--query", "--requisites", top).strip().lines().sorted().toList(),
            granary("query", "--root", root.toString(), "--requisites", top).stream().sorted().toList());
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, Files.readAllBytes(source));
    }

    @Test
    void dbImportOfAFileThatIsNotAStoreDatabaseFailsWithOneLine() throws IOException {
        Path bogus = Files.writeString(tmp.resolve("bogus.sqlite"), "");
        GranaryCommandTest.Run run = GranaryCommandTest.run("db", "import", "--root",
            tmp.resolve("bogus-root").toString(), "--sqlite", bogus.toString());
        assertEquals(1, run.status(), run.stderr());
        assertTrue(run.stderr().startsWith("granary: ") && run.stderr().contains("not a Guix or Nix store database"),
            run.stderr());
    }
}
