package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.granary.nar.testing.NixOracle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SqliteImport} of the db.sqlite of a private Nix store, checked against {@code nix-store -q}. */
class SqliteImportInteropTest {
    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static NixOracle nix;
    static Path source;
    static String tree;
    static String leaf;
    static String middle;
    static String top;
    static List<String> all;

    @BeforeAll
    static void setUp() throws IOException {
        NixOracle.assumeAvailable();
        nix = NixOracle.open(shared.resolve("nix"));
        Path dir = Files.createDirectories(shared.resolve("in/tree/sub"));
        Files.writeString(dir.resolve("a.txt"), "a file\n");
        Files.writeString(dir.getParent().resolve("b.txt"), "another\n");
        tree = nix.addSource(dir.getParent());
        leaf = nix.toFile("leaf", "just text");
        middle = nix.toFile("middle", "needs " + leaf + " and " + tree, leaf, tree);
        top = nix.toFile("top", "needs " + middle + " and itself? no; and " + leaf, middle, leaf);
        all = List.of(tree, leaf, middle, top);
        source = nix.stateDir().resolve("db/db.sqlite");
    }

    private static SortedSet<String> nixQuery(String what, String path) throws IOException {
        return new TreeSet<>(Arrays.asList(nix.nixStore("--query", what, path).strip().split("\n")));
    }

    private static SortedSet<String> strings(Set<StorePath> paths) {
        return paths.stream().map(StorePath::toString).collect(Collectors.toCollection(TreeSet::new));
    }

    private static StorePath p(String path) {
        return StorePath.parse(path, NixOracle.STORE_DIR);
    }

    private static byte[] sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(e -> e.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void importGivesTheValidSetReferencesClosuresAndHashesNixReports() throws Exception {
        byte[] before = sha256(source);
        List<String> dirBefore = listing(source.getParent());
        try (StoreDatabase db = StoreDatabase.open(tmp.resolve("lmdb"), NixOracle.STORE_DIR)) {
            SqliteImport.Contents contents = SqliteImport.importInto(source, db);
            assertEquals(4, contents.paths().size());
            // tree 0, leaf 0, middle 2, top 2.
            assertEquals(4, contents.referenceCount());
            SortedSet<String> nixValid = new TreeSet<>();
            for (String path : all) {
                nixValid.addAll(nixQuery("--requisites", path));
            }
            assertEquals(nixValid, strings(db.validPaths()));
            for (String path : all) {
                assertEquals(nixQuery("--references", path).stream().filter(s -> !s.isEmpty())
                    .collect(Collectors.toCollection(TreeSet::new)), strings(db.references(p(path))), path);
                assertEquals(nixQuery("--requisites", path), strings(db.closure(List.of(p(path)), false)), path);
                assertEquals(nixQuery("--referrers-closure", path), strings(db.closure(List.of(p(path)), true)),
                    path);
                PathInfo info = db.pathInfo(p(path)).orElseThrow();
                assertEquals(Hash.parse(nix.nixStore("--query", "--hash", path).strip()), info.narHash(), path);
                assertEquals(Long.parseLong(nix.nixStore("--query", "--size", path).strip()), info.narSize(), path);
                assertNull(info.deriver(), path);
            }
        }
        assertArrayEquals(before, sha256(source), "the source's bytes changed");
        assertEquals(dirBefore, listing(source.getParent()), "files appeared next to the source");
    }

    /** A copy of the oracle's database, changed by {@code sql} through a writable connection. */
    private Path changedCopy(String... sql) throws IOException, SQLException {
        Path copy = Files.createDirectories(tmp.resolve("copy")).resolve("db.sqlite");
        Files.copy(source, copy);
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + copy);
                Statement statement = connection.createStatement()) {
            statement.execute("pragma foreign_keys = off");
            for (String s : sql) {
                statement.execute(s);
            }
        }
        return copy;
    }

    private void assertRefused(Path copy, String... mentioned) throws IOException {
        try (StoreDatabase db = StoreDatabase.open(tmp.resolve("lmdb"), NixOracle.STORE_DIR)) {
            SqliteImportException e = assertThrows(SqliteImportException.class, () -> SqliteImport.importInto(copy, db));
            for (String m : mentioned) {
                assertTrue(e.getMessage().contains(m), e.getMessage());
            }
            assertEquals(0, db.validPathCount());
        }
    }

    @Test
    void aDanglingReferenceIsRefusedNamingTheReferrerAndNothingIsRegistered() throws Exception {
        Path copy = changedCopy("insert into Refs (referrer, reference) select id, 9999 from ValidPaths where path = '"
            + top + "'");
        assertRefused(copy, top, "9999", "dangling");
    }

    @Test
    void aMalformedHashIsRefusedNamingThePath() throws Exception {
        assertRefused(changedCopy("update ValidPaths set hash = 'sha256:not-a-hash' where path = '" + leaf + "'"),
            leaf, "corrupt hash", "sha256:not-a-hash");
    }

    @Test
    void aPathOfAnotherStoreDirIsRefused() throws Exception {
        String foreign = "/nix/store/" + p(leaf).baseName();
        assertRefused(changedCopy("update ValidPaths set path = '" + foreign + "' where path = '" + leaf + "'"),
            foreign, "not in store dir");
    }

    @Test
    void nix32AndBareBase16HashesDeriversAndDerivationOutputsAreRead() throws Exception {
        Hash leafHash = Hash.parse(nix.nixStore("--query", "--hash", leaf).strip());
        Hash treeHash = Hash.parse(nix.nixStore("--query", "--hash", tree).strip());
        String drv = NixOracle.STORE_DIR + "/" + p(leaf).hashPart().replace('0', '1') + "-top.drv";
        Path copy = changedCopy(
            "update ValidPaths set hash = '" + leafHash.format(HashFormat.BASE32) + "' where path = '" + leaf + "'",
            "update ValidPaths set hash = '" + treeHash.format(HashFormat.BASE16) + "' where path = '" + tree + "'",
            "update ValidPaths set deriver = '" + drv + "' where path = '" + top + "'",
            "insert into DerivationOutputs (drv, id, path) select id, 'out', '" + top + "' from ValidPaths where path = '"
                + middle + "'");
        try (StoreDatabase db = StoreDatabase.open(tmp.resolve("lmdb"), NixOracle.STORE_DIR)) {
            SqliteImport.importInto(copy, db);
            assertEquals(leafHash, db.pathInfo(p(leaf)).orElseThrow().narHash());
            assertEquals(treeHash, db.pathInfo(p(tree)).orElseThrow().narHash());
            assertEquals(p(drv), db.pathInfo(p(top)).orElseThrow().deriver());
            assertEquals(Map.of("out", p(top)), db.derivationOutputs(p(middle)));
        }
    }

    @Test
    void aFileThatIsNotAStoreDatabaseIsRefused() throws Exception {
        Path other = tmp.resolve("other.sqlite");
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + other);
                Statement statement = connection.createStatement()) {
            statement.execute("create table t (x integer)");
        }
        assertRefused(other, "not a Guix or Nix store database");
    }

    @Test
    void aGuixSchemaWithoutSigsCaAndUltimateIsRead() throws Exception {
        Path copy = changedCopy("alter table ValidPaths drop column sigs", "alter table ValidPaths drop column ca",
            "alter table ValidPaths drop column ultimate");
        try (StoreDatabase db = StoreDatabase.open(tmp.resolve("lmdb"), NixOracle.STORE_DIR)) {
            SqliteImport.Contents contents = SqliteImport.importInto(copy, db);
            assertEquals(4, contents.paths().size());
            assertEquals(Set.of(p(middle), p(leaf)), db.references(p(top)));
            assertTrue(db.pathInfo(p(top)).orElseThrow().signatures().isEmpty());
        }
    }
}
