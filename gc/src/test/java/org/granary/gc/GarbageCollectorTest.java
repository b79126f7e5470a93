package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;
import org.granary.store.TempRoots;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GarbageCollectorTest {
    @TempDir
    Path root;

    private StoreConfig config() {
        return StoreConfig.under(root);
    }

    /** a <- b <- c (c refers to b refers to a), d alone, e refers to a; roots as each test wants. */
    private List<StorePath> chain() throws IOException {
        try (LocalStore store = LocalStore.open(config())) {
            StorePath a = store.addTextToStore("a", "a", List.of());
            StorePath b = store.addTextToStore("b", "b " + a, List.of(a));
            StorePath c = store.addTextToStore("c", "c " + b, List.of(b));
            StorePath d = store.addTextToStore("d", "d", List.of());
            StorePath e = store.addTextToStore("e", "e " + a, List.of(a));
            return List.of(a, b, c, d, e);
        }
    }

    private static GarbageCollector collector(LocalStore store) {
        return new GarbageCollector(store.config(), store.database(), GarbageCollector.Options.defaults(), new Random(1));
    }

    private static List<String> strings(StorePath... paths) {
        return new TreeSet<>(List.of(paths).stream().map(StorePath::toString).toList()).stream().toList();
    }

    @Test
    void directIndirectAndFileRootsKeepTheirClosuresAndStaleRootsAreReportedOnly() throws IOException {
        List<StorePath> p = chain();
        Path outside = Files.createDirectories(root.resolve("home"));
        Path link = Files.createSymbolicLink(outside.resolve("result"), Path.of(p.get(1).toString()));
        Path auto = config().physicalStateDir().resolve("gcroots/auto");
        Files.createSymbolicLink(auto.resolve("indirect"), link);
        Files.createSymbolicLink(auto.resolve("stale"), outside.resolve("gone"));
        Files.createSymbolicLink(config().physicalStateDir().resolve("gcroots/invalid"),
            Path.of("/gnu/store/00000000000000000000000000000000-missing"));
        Files.createFile(config().physicalStateDir().resolve("gcroots").resolve(p.get(3).baseName()));
        try (LocalStore store = LocalStore.open(config())) {
            GarbageCollector gc = collector(store);
            Roots roots = gc.listRoots();
            assertEquals(Set.of(p.get(1), p.get(3)), Set.copyOf(roots.roots().stream().map(GcRoot::path).toList()));
            assertEquals(2, roots.stale().size(), roots.stale().toString());
            assertEquals(strings(p.get(2), p.get(4)), gc.listDead().paths());
            assertEquals(strings(p.get(0), p.get(1), p.get(3)), gc.listLive().paths());
            GcResult result = gc.collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(strings(p.get(2), p.get(4)), new TreeSet<>(result.deleted()).stream().toList());
            assertEquals(2, result.staleRoots().size());
            assertTrue(Files.isSymbolicLink(auto.resolve("stale")), "a stale root is never removed");
            assertFalse(store.isValidPath(p.get(2)));
            assertFalse(Files.exists(config().storeDir().physicalPath(p.get(2)), NOFOLLOW_LINKS));
            assertTrue(store.isValidPath(p.get(0)) && store.isValidPath(p.get(1)) && store.isValidPath(p.get(3)));
            GcFixtures.assertSound(config(), store.database(), "after collecting");
            assertEquals(List.of(), gc.listDead().paths());
        }
    }

    @Test
    void listingsChangeNothingAtAll() throws IOException {
        List<StorePath> p = chain();
        GcFixtures.root(config(), "c", p.get(2));
        Files.createSymbolicLink(config().physicalStateDir().resolve("gcroots/auto/stale"), root.resolve("gone"));
        // The temporary-roots file of a process that is gone, and leftovers in the store dir.
        Path temproots = config().physicalStateDir().resolve("temproots");
        Files.writeString(temproots.resolve("999999999"), p.get(3) + "\0");
        Files.writeString(config().physicalStoreDir().resolve("junk"), "x");
        SortedMap<String, String> before = GcFixtures.tree(root);
        try (StoreDatabase database = StoreDatabase.open(config().databaseDir(), "/gnu/store")) {
            GarbageCollector gc = new GarbageCollector(config(), database, GarbageCollector.Options.defaults());
            assertEquals(strings(p.get(3), p.get(4)).size() + 1, gc.listDead().paths().size());
            assertTrue(gc.listDead().paths().contains("/gnu/store/junk"));
            gc.listLive();
            gc.listRoots();
        }
        SortedMap<String, String> after = GcFixtures.tree(root);
        after.remove("var/guix/db/lmdb/lock.mdb");
        before.remove("var/guix/db/lmdb/lock.mdb");
        assertEquals(before, after);
    }

    @Test
    void deletingALivePathNamesItsRootAndDeletesNothing() throws IOException {
        List<StorePath> p = chain();
        GcFixtures.root(config(), "the-root", p.get(1));
        try (LocalStore store = LocalStore.open(config())) {
            GarbageCollector gc = collector(store);
            PathAliveException alive = assertThrows(PathAliveException.class,
                () -> gc.delete(List.of(p.get(3), p.get(0)), GcProgress.NONE));
            assertTrue(alive.getMessage().contains("gcroots/the-root"), alive.getMessage());
            assertEquals(p.get(0).toString(), alive.path());
            assertTrue(store.isValidPath(p.get(3)), "nothing is deleted when one path is alive");
            // A dead path goes with its dead referrers, and nothing else.
            assertEquals(List.of(p.get(3).toString()), gc.delete(List.of(p.get(3)), GcProgress.NONE).deleted());
            // e refers to a, which is live: deleting e deletes only e.
            assertEquals(List.of(p.get(4).toString()), gc.delete(List.of(p.get(4)), GcProgress.NONE).deleted());
            GcFixtures.assertSound(config(), store.database(), "after deleting");
        }
    }

    @Test
    void deletingAPathDeletesItsReferrersFirst() throws IOException {
        List<StorePath> p = chain();
        try (LocalStore store = LocalStore.open(config())) {
            GcResult result = collector(store).delete(List.of(p.get(1)), GcProgress.NONE);
            assertEquals(List.of(p.get(2).toString(), p.get(1).toString()), result.deleted());
            assertTrue(store.isValidPath(p.get(0)));
        }
    }

    @Test
    void temporaryRootsOfLiveProcessesAreKeptAndTheirAdditionsLeftAlone() throws IOException {
        List<StorePath> p = chain();
        Files.writeString(config().physicalStoreDir().resolve(".granary-add-" + ProcessHandle.current().pid() + "-1"), "x");
        Path deadTemporary = config().physicalStoreDir().resolve(".granary-add-999999999-1");
        Files.writeString(deadTemporary, "x");
        try (LocalStore store = LocalStore.open(config());
                TempRoots temp = TempRoots.open(config().physicalStateDir())) {
            temp.add(p.get(2));
            Files.writeString(deadTemporary, "x");
            GcResult result = collector(store).collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(new TreeSet<>(List.of(p.get(3).toString(), p.get(4).toString(),
                "/gnu/store/.granary-add-999999999-1")), new TreeSet<>(result.deleted()));
            assertTrue(store.isValidPath(p.get(2)) && store.isValidPath(p.get(1)));
            assertTrue(Files.exists(config().physicalStoreDir().resolve(".granary-add-" + ProcessHandle.current().pid() + "-1")));
        }
    }

    @Test
    void aTemporaryRootAddedThroughTheStoreKeepsItsClosureUntilTheStoreIsClosed() throws IOException {
        List<StorePath> p = chain();
        try (LocalStore store = LocalStore.open(config())) {
            store.addTempRoot(p.get(2));
            GcResult result = collector(store).collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(strings(p.get(3), p.get(4)), new TreeSet<>(result.deleted()).stream().toList());
        }
        try (LocalStore store = LocalStore.open(config())) {
            GcResult result = collector(store).collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(strings(p.get(0), p.get(1), p.get(2)), new TreeSet<>(result.deleted()).stream().toList());
        }
    }

    @Test
    void keepDerivationsAndKeepOutputsAsTheDaemon() throws IOException {
        StorePath drv;
        StorePath out;
        try (LocalStore store = LocalStore.open(config())) {
            drv = store.addTextToStore("x.drv", "Derive()", List.of());
            out = store.addTextToStore("x", "built", List.of());
            store.registerValidPaths(List.of(store.queryPathInfo(drv).orElseThrow(),
                store.queryPathInfo(out).orElseThrow().withDeriver(drv)), Map.of(drv, Map.of("out", out)));
        }
        try (LocalStore store = LocalStore.open(config())) {
            GarbageCollector.Options keepOutputs = new GarbageCollector.Options(true, true, List.of());
            assertEquals(strings(drv, out), live(store, GarbageCollector.Options.defaults(), out));
            assertEquals(strings(out), live(store, new GarbageCollector.Options(false, false, List.of()), out));
            assertEquals(strings(drv), live(store, GarbageCollector.Options.defaults(), drv));
            assertEquals(strings(drv, out), live(store, keepOutputs, drv));
        }
    }

    private List<String> live(LocalStore store, GarbageCollector.Options options, StorePath root) throws IOException {
        GarbageCollector.Options withRoot = new GarbageCollector.Options(options.keepDerivations(),
            options.keepOutputs(), List.of(root));
        return new GarbageCollector(store.config(), store.database(), withRoot).listLive().paths();
    }

    @Test
    void aLimitStopsTheCollectionAndLeavesTheStoreSound() throws IOException {
        List<StorePath> all = new ArrayList<>();
        try (LocalStore store = LocalStore.open(config())) {
            StorePath previous = null;
            for (int i = 0; i < 40; i++) {
                String text = "item " + i + " " + "x".repeat(1000) + (previous == null ? "" : previous.toString());
                previous = store.addTextToStore("item-" + i, text, previous == null ? List.of() : List.of(previous));
                all.add(previous);
            }
        }
        try (LocalStore store = LocalStore.open(config())) {
            GcResult result = collector(store).collect(3000, GcProgress.NONE);
            assertTrue(result.limitReached(), "the limit stops it");
            assertTrue(result.bytesFreed() >= 3000, "freed " + result.bytesFreed());
            assertTrue(result.deleted().size() < all.size(), "deleted " + result.deleted().size());
            GcFixtures.assertSound(config(), store.database(), "after a limited collection");
            GcResult rest = collector(store).collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(all.size(), result.deleted().size() + rest.deleted().size());
            assertFalse(rest.limitReached());
        }
    }

    @Test
    void progressCountsItemsAndBytes() throws IOException {
        chain();
        List<Long> items = new ArrayList<>();
        try (LocalStore store = LocalStore.open(config())) {
            GcResult result = collector(store).collect(Long.MAX_VALUE, (what, n, bytes) -> items.add(n));
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), items);
            assertEquals(5, result.deleted().size());
        }
    }
}
