package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.granary.nar.NarDumper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalStoreTest {
    @TempDir
    Path tmp;

    private LocalStore store;
    private StorePaths paths;

    @BeforeEach
    void open() throws IOException {
        store = LocalStore.open(config(tmp.resolve("root")));
        paths = new StorePaths(store.config().storeDir());
    }

    @AfterEach
    void close() throws IOException {
        store.close();
    }

    private static StoreConfig config(Path root) {
        return StoreConfig.under(root).withReservedSpace(4096);
    }

    @Test
    void openCreatesTheLayout() {
        Path state = tmp.resolve("root/var/guix");
        assertTrue(Files.isDirectory(tmp.resolve("root/gnu/store")));
        assertTrue(Files.isDirectory(state.resolve("db/lmdb")));
        assertTrue(Files.isDirectory(state.resolve("temproots")));
        assertTrue(Files.isDirectory(state.resolve("gcroots/auto")));
        assertTrue(Files.isRegularFile(state.resolve("db/reserved")));
    }

    @Test
    void openingRemovesTheTemporariesOfDeadProcessesOnly() throws Exception {
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        long live = ProcessHandle.current().pid();
        Path storeDir = store.config().physicalStoreDir();
        Path deadTemp = Files.createDirectories(storeDir.resolve(".granary-add-" + dead.pid() + "-abc/sub"));
        Files.setPosixFilePermissions(deadTemp, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path deadRestorerTemp = Files.writeString(storeDir.resolve("..granary-add-" + dead.pid() + "-ab.granary-tmp-x"), "x");
        Path liveTemp = Files.writeString(storeDir.resolve(".granary-add-" + live + "-abc"), "x");
        Path other = Files.writeString(storeDir.resolve(".links"), "not ours");
        store.close();
        store = LocalStore.open(config(tmp.resolve("root")));
        assertFalse(Files.exists(deadTemp.getParent()));
        assertFalse(Files.exists(deadRestorerTemp));
        assertTrue(Files.exists(liveTemp));
        assertTrue(Files.exists(other));
        assertEquals(-1, LocalStore.temporaryOwner(".granary-add-x1-abc"));
        assertEquals(42, LocalStore.temporaryOwner("..granary-add-42-abc"));
    }

    @Test
    void addTextGivesGuixPathAndACanonicalRegisteredItem() throws IOException {
        StorePath dep = store.addTextToStore("dep", "dependency\n", List.of());
        String text = "refers to " + dep + " — ünïcode\n";
        StorePath path = store.addTextToStore("hello.txt", text, List.of(dep));

        Hash sha = Hash.of(HashAlgorithm.SHA256,
            HashAlgorithm.SHA256.newDigest().digest(text.getBytes(StandardCharsets.UTF_8)));
        assertEquals(paths.text("hello.txt", sha, List.of(dep)), path);
        Path file = physical(path);
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(file));
        assertItemMatchesRegistration(path);
        assertEquals(Set.of(dep), store.queryReferences(path));
        assertEquals(Set.of(path), store.queryReferrers(dep));
    }

    @Test
    void addSourceTreeGivesTheSourcePathAndCopiesTheTreeExactly() throws IOException {
        Path source = sampleTree(tmp.resolve("src"));
        StorePath dep = store.addTextToStore("dep", "x", List.of());
        StorePath path = store.addToStore("src", source, true, HashAlgorithm.SHA256, List.of(dep));

        assertEquals(paths.source("src", Hash.ofNar(source, HashAlgorithm.SHA256), List.of(dep), false), path);
        assertEquals(Hash.ofNar(source, HashAlgorithm.SHA256), Hash.ofNar(physical(path), HashAlgorithm.SHA256));
        assertItemMatchesRegistration(path);
        assertEquals("../a.txt", Files.readSymbolicLink(physical(path).resolve("sub/link")).toString());
        assertTrue(Files.isExecutable(physical(path).resolve("run.sh")));
        assertNoTemporaries();
    }

    @Test
    void addFixedFlatAndRecursiveGiveTheFixedOutputPaths() throws IOException {
        Path file = Files.writeString(tmp.resolve("f.tar"), "archive bytes");
        StorePath flat = store.addToStore("f.tar", file, false, HashAlgorithm.SHA1, List.of());
        assertEquals(paths.fixedOutput("f.tar", false, Hash.ofFile(file, HashAlgorithm.SHA1)), flat);
        assertEquals("archive bytes", Files.readString(physical(flat)));
        assertFalse(Files.isExecutable(physical(flat)));
        assertItemMatchesRegistration(flat);

        StorePath flatSha256 = store.addToStore("f.tar", file, false, HashAlgorithm.SHA256, List.of());
        assertEquals(paths.fixedOutput("f.tar", false, Hash.ofFile(file, HashAlgorithm.SHA256)), flatSha256);

        Path tree = sampleTree(tmp.resolve("tree"));
        StorePath recursive = store.addToStore("tree", tree, true, HashAlgorithm.SHA512, List.of());
        assertEquals(paths.fixedOutput("tree", true, Hash.ofNar(tree, HashAlgorithm.SHA512)), recursive);
        assertItemMatchesRegistration(recursive);
    }

    @Test
    void fixedOutputWithReferencesAndFlatDirectoryAreRefused() throws IOException {
        StorePath dep = store.addTextToStore("dep", "x", List.of());
        Path file = Files.writeString(tmp.resolve("f"), "f");
        assertThrows(IllegalArgumentException.class,
            () -> store.addToStore("f", file, false, HashAlgorithm.SHA256, List.of(dep)));
        assertThrows(IllegalArgumentException.class,
            () -> store.addToStore("f", file, true, HashAlgorithm.SHA1, List.of(dep)));
        Path dir = Files.createDirectories(tmp.resolve("d"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> store.addToStore("d", dir, false, HashAlgorithm.SHA256, List.of()));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void addingTwiceWritesOnce() throws IOException {
        Path source = sampleTree(tmp.resolve("src"));
        StorePath path = store.addToStore("src", source, true, HashAlgorithm.SHA256, List.of());
        Object inode = Files.readAttributes(physical(path), "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino");
        PathInfo info = store.queryPathInfo(path).orElseThrow();

        assertEquals(path, store.addToStore("src", source, true, HashAlgorithm.SHA256, List.of()));
        assertEquals(inode, Files.readAttributes(physical(path), "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino"));
        assertEquals(info, store.queryPathInfo(path).orElseThrow());

        StorePath text = store.addTextToStore("t", "t", List.of());
        Object textInode = Files.readAttributes(physical(text), "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino");
        store.addTextToStore("t", "t", List.of());
        assertEquals(textInode, Files.readAttributes(physical(text), "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino"));
        assertNoTemporaries();
    }

    @Test
    void anInvalidLeftoverIsReplaced() throws IOException {
        Hash sha = Hash.of(HashAlgorithm.SHA256, HashAlgorithm.SHA256.newDigest().digest("good".getBytes(StandardCharsets.UTF_8)));
        StorePath expected = paths.text("left", sha, List.of());
        Path leftover = Files.createDirectories(physical(expected).resolve("junk"));
        Files.writeString(leftover.resolve("file"), "half-written");
        Path outside = Files.writeString(tmp.resolve("outside"), "keep me");
        Files.createSymbolicLink(leftover.resolve("escape"), outside);
        Files.setPosixFilePermissions(leftover, PosixFilePermissions.fromString("r-xr-xr-x"));

        assertEquals(expected, store.addTextToStore("left", "good", List.of()));
        assertEquals("good", Files.readString(physical(expected)));
        assertEquals("keep me", Files.readString(outside));
        assertItemMatchesRegistration(expected);
    }

    @Test
    void aMissingReferenceLeavesNothing() throws IOException {
        StorePath missing = DbFixtures.path("missing");
        MissingReferenceException e = assertThrows(MissingReferenceException.class,
            () -> store.addTextToStore("t", "t", List.of(missing)));
        assertEquals(missing.toString(), e.reference());
        Path source = sampleTree(tmp.resolve("src"));
        assertThrows(MissingReferenceException.class,
            () -> store.addToStore("src", source, true, HashAlgorithm.SHA256, List.of(missing)));
        assertEquals(List.of(), storeEntries());
        assertEquals(0, store.queryRequisites(List.of()).size());
    }

    @Test
    void addFromNarChecksTheHashBeforeAnythingBecomesVisible() throws IOException {
        Path source = sampleTree(tmp.resolve("src"));
        byte[] nar = narOf(source);
        Hash narHash = Hash.ofNar(source, HashAlgorithm.SHA256);
        StorePath path = paths.source("src", narHash, List.of(), false);
        Hash wrong = Hash.of(HashAlgorithm.SHA256, new byte[32]);

        NarHashMismatchException e = assertThrows(NarHashMismatchException.class,
            () -> store.addFromNar(new ByteArrayInputStream(nar), PathInfo.of(path, wrong, nar.length, List.of(), 0)));
        assertEquals(path.toString(), e.path());
        assertEquals(wrong.toString(), e.expectedHash());
        assertEquals(narHash.toString(), e.actualHash());
        assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
        assertFalse(Files.exists(physical(path), LinkOption.NOFOLLOW_LINKS));
        assertFalse(store.isValidPath(path));
        assertEquals(List.of(), storeEntries().stream().filter(n -> !n.endsWith(".lock")).toList());

        assertThrows(NarHashMismatchException.class,
            () -> store.addFromNar(new ByteArrayInputStream(nar), PathInfo.of(path, narHash, nar.length + 8, List.of(), 0)));

        PathInfo added = store.addFromNar(new ByteArrayInputStream(nar),
            PathInfo.of(path, narHash, nar.length, List.of(), 0).withDeriver(DbFixtures.path("x.drv")));
        assertEquals(narHash, added.narHash());
        assertEquals(Optional.of(DbFixtures.path("x.drv")), Optional.ofNullable(store.queryPathInfo(path).orElseThrow().deriver()));
        assertItemMatchesRegistration(path);
        assertNoTemporaries();
    }

    @Test
    void aTruncatedNarLeavesNothing() throws IOException {
        Path source = sampleTree(tmp.resolve("src"));
        byte[] nar = narOf(source);
        Hash narHash = Hash.ofNar(source, HashAlgorithm.SHA256);
        StorePath path = paths.source("src", narHash, List.of(), false);
        byte[] truncated = java.util.Arrays.copyOf(nar, nar.length / 2);
        assertThrows(org.granary.nar.NarFormatException.class,
            () -> store.addFromNar(new ByteArrayInputStream(truncated), PathInfo.of(path, narHash, nar.length, List.of(), 0)));
        assertFalse(store.isValidPath(path));
        assertEquals(List.of(), storeEntries().stream().filter(n -> !n.endsWith(".lock")).toList());
    }

    @Test
    void aSourceThatNoNarCanHoldIsRefusedByTheDumpAndLeavesNothing() throws Exception {
        Path source = sampleTree(tmp.resolve("src"));
        Process mkfifo = new ProcessBuilder("mkfifo", source.resolve("sub/fifo").toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        IOException e = assertThrows(IOException.class,
            () -> store.addToStore("src", source, true, HashAlgorithm.SHA256, List.of()));
        assertTrue(e instanceof org.granary.nar.NarDumpException, e.toString());
        assertTrue(e.getMessage().contains("fifo"), e.getMessage());
        assertEquals(List.of(), storeEntries());
    }

    @Test
    void addFromNarOfAValidPathReadsNothing() throws IOException {
        StorePath text = store.addTextToStore("t", "t", List.of());
        PathInfo info = store.queryPathInfo(text).orElseThrow();
        InputStream unreadable = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("read");
            }
        };
        assertEquals(info, store.addFromNar(unreadable, PathInfo.of(text, info.narHash(), info.narSize(), List.of(), 0)));
    }

    @Test
    void exportThenImportIntoAnotherStoreKeepsPathsHashesAndReferences() throws IOException {
        StorePath text = store.addTextToStore("dep", "dependency", List.of());
        StorePath source = store.addToStore("src", sampleTree(tmp.resolve("src")), true, HashAlgorithm.SHA256, List.of(text));
        StorePath top = store.addTextToStore("top", "uses " + source, List.of(source, text));

        ByteArrayOutputStream export = new ByteArrayOutputStream();
        store.exportPaths(List.of(top, text, source), export);

        try (LocalStore other = LocalStore.open(config(tmp.resolve("other")))) {
            List<StorePath> imported = other.importPaths(new ByteArrayInputStream(export.toByteArray()));
            assertEquals(List.of(text, source, top), imported);
            for (StorePath path : imported) {
                PathInfo mine = store.queryPathInfo(path).orElseThrow();
                PathInfo theirs = other.queryPathInfo(path).orElseThrow();
                assertEquals(mine.narHash(), theirs.narHash());
                assertEquals(mine.narSize(), theirs.narSize());
                assertEquals(mine.references(), theirs.references());
                Path files = other.config().storeDir().physicalPath(path);
                assertEquals(Optional.empty(), Canonicaliser.keepingOwners().firstDeviation(files));
                assertEquals(theirs.narHash(), Hash.ofNar(files, HashAlgorithm.SHA256));
            }
            assertEquals(new TreeSet<>(List.of(text, source, top)), other.queryRequisites(List.of(top)));
            // Importing again changes nothing.
            assertEquals(imported, other.importPaths(new ByteArrayInputStream(export.toByteArray())));
        }
    }

    @Test
    void importRefusesAnItemWhoseReferenceIsMissingAndLeavesNothingOfIt() throws IOException {
        StorePath text = store.addTextToStore("dep", "dependency", List.of());
        StorePath top = store.addTextToStore("top", "uses " + text, List.of(text));
        ByteArrayOutputStream export = new ByteArrayOutputStream();
        store.exportPaths(List.of(top), export);
        try (LocalStore other = LocalStore.open(config(tmp.resolve("other")))) {
            assertThrows(MissingReferenceException.class,
                () -> other.importPaths(new ByteArrayInputStream(export.toByteArray())));
            assertFalse(other.isValidPath(top));
            try (Stream<Path> entries = Files.list(other.config().physicalStoreDir())) {
                assertEquals(List.of(), entries.map(p -> p.getFileName().toString()).toList());
            }
        }
    }

    @Test
    void exportRefusesAnInvalidPathBeforeWriting() throws IOException {
        StorePath text = store.addTextToStore("dep", "dependency", List.of());
        ByteArrayOutputStream export = new ByteArrayOutputStream();
        assertThrows(PathNotValidException.class,
            () -> store.exportPaths(List.of(text, DbFixtures.path("nope")), export));
        assertEquals(0, export.size());
    }

    @Test
    void queriesDelegateAndRejectAnotherStoreDir() throws IOException {
        StorePath a = store.addTextToStore("a", "a", List.of());
        StorePath b = store.addTextToStore("b", "b " + a, List.of(a));
        StorePath c = store.addTextToStore("c", "c " + b, List.of(b));
        assertEquals(new TreeSet<>(List.of(a, b, c)), store.queryRequisites(List.of(c)));
        assertEquals(new TreeSet<>(List.of(a, b, c)), store.queryReferrersClosure(List.of(a)));
        assertEquals(Optional.of(b), store.queryPathFromHashPart(b.hashPart()));
        assertEquals(Optional.empty(), store.queryPathFromHashPart(DbFixtures.path("z").hashPart()));

        StorePath foreign = new StorePath("/nix/store", a.hashPart(), "a");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.isValidPath(foreign));
        assertTrue(e.getMessage().contains(foreign.toString()) && e.getMessage().contains("/gnu/store"), e.getMessage());

        assertThrows(StillReferencedException.class, () -> store.invalidatePaths(List.of(a)));
        assertEquals(3, store.invalidatePaths(List.of(a, b, c)));
        assertFalse(store.isValidPath(a));
        store.registerValidPaths(List.of(PathInfo.of(a, Hash.ofNar(physical(a), HashAlgorithm.SHA256), 0, List.of(), 1)));
        assertTrue(store.isValidPath(a));
    }

    @Test
    void threadsAddingOverlappingItemsWriteEachOnceAndAllBecomeValid() throws Exception {
        Path source = sampleTree(tmp.resolve("src"));
        int threads = 8;
        Map<StorePath, Set<Object>> inodes = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<StorePath>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5));
                    Collections.rotate(order, seed);
                    List<StorePath> added = new ArrayList<>(Collections.nCopies(6, null));
                    for (int i : order) {
                        StorePath path = i == 5 ? store.addToStore("src", source, true, HashAlgorithm.SHA256, List.of())
                            : store.addTextToStore("item-" + i, "contents " + i, List.of());
                        added.set(i, path);
                        // A second write would replace the entry, and with it the inode every thread sees.
                        inodes.computeIfAbsent(path, p -> ConcurrentHashMap.newKeySet()).add(inode(path));
                    }
                    return added;
                }));
            }
            List<StorePath> first = results.get(0).get();
            for (Future<List<StorePath>> result : results) {
                assertEquals(first, result.get());
            }
            for (StorePath path : first) {
                assertItemMatchesRegistration(path);
                assertEquals(Set.of(inode(path)), inodes.get(path), "every thread saw the one write of " + path);
            }
        } finally {
            pool.shutdownNow();
        }
        assertNoTemporaries();
        assertEquals(6, storeEntries().stream().filter(n -> !n.endsWith(".lock")).count());
    }

    // ---------------------------------------------------------------- helpers

    private Path physical(StorePath path) {
        return store.config().storeDir().physicalPath(path);
    }

    private Object inode(StorePath path) throws IOException {
        return Files.readAttributes(physical(path), "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino");
    }

    private void assertItemMatchesRegistration(StorePath path) throws IOException {
        assertTrue(store.isValidPath(path), path + " valid");
        Path files = physical(path);
        assertEquals(Optional.empty(), Canonicaliser.keepingOwners().firstDeviation(files));
        PathInfo info = store.queryPathInfo(path).orElseThrow();
        assertEquals(info.narHash(), Hash.ofNar(files, HashAlgorithm.SHA256));
        assertEquals(info.narSize(), narOf(files).length);
    }

    private List<String> storeEntries() throws IOException {
        try (Stream<Path> entries = Files.list(store.config().physicalStoreDir())) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private void assertNoTemporaries() throws IOException {
        assertEquals(List.of(), storeEntries().stream().filter(n -> n.startsWith(".")).toList());
    }

    private static byte[] narOf(Path root) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new NarDumper().dump(root, out);
        return out.toByteArray();
    }

    private static Path sampleTree(Path root) throws IOException {
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("a.txt"), "alpha\n");
        Path run = Files.writeString(root.resolve("run.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.write(root.resolve("sub/big"), new byte[300_000]);
        Files.createSymbolicLink(root.resolve("sub/link"), Path.of("../a.txt"));
        Files.createDirectories(root.resolve("empty"));
        return root;
    }
}
