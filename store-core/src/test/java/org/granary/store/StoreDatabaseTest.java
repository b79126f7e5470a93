package org.granary.store;

import static org.granary.store.DbFixtures.STORE;
import static org.granary.store.DbFixtures.info;
import static org.granary.store.DbFixtures.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreDatabaseTest {
    @TempDir
    Path dir;

    private StoreDatabase db;

    private final StorePath libc = path("glibc-2.39");
    private final StorePath bash = path("bash-5.2");
    private final StorePath hello = path("hello-2.12");
    private final StorePath self = path("self-ref");

    @BeforeEach
    void open() {
        db = StoreDatabase.open(dir.resolve("db/lmdb"), STORE);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void aRegisteredPathIsValidWithItsInfoAndReferences() {
        PathInfo bashInfo = info(bash, libc).withDeriver(path("bash-5.2.drv"))
            .withSignatures(List.of("cache.example.org-1:AAAA", "b:BBBB")).withContentAddress("fixed:r:sha256:x");
        db.register(List.of(bashInfo, info(libc)));
        assertTrue(db.isValid(bash));
        assertTrue(db.isValid(libc));
        assertFalse(db.isValid(hello));
        assertEquals(Optional.of(bashInfo), db.pathInfo(bash));
        assertEquals(Optional.empty(), db.pathInfo(hello));
        assertEquals(Set.of(libc), db.references(bash));
        assertEquals(Set.of(bash), db.referrers(libc));
        assertEquals(Set.of(), db.references(libc));
        assertEquals(2, db.validPathCount());
        assertEquals(new TreeSet<>(List.of(bash, libc)), db.validPaths());
    }

    @Test
    void aPathWhoseHashPartIsKnownUnderAnotherNameIsNotValid() {
        db.register(List.of(info(libc)));
        StorePath impostor = new StorePath(STORE, libc.hashPart(), "glibc-2.40");
        assertFalse(db.isValid(impostor));
        assertEquals(Optional.empty(), db.pathInfo(impostor));
        assertThrows(PathNotValidException.class, () -> db.references(impostor));
        StoreException e = assertThrows(StoreException.class, () -> db.register(List.of(info(impostor))));
        assertTrue(e.getMessage().contains(libc.toString()), e.getMessage());
        MissingReferenceException missing =
            assertThrows(MissingReferenceException.class, () -> db.register(List.of(info(bash, impostor))));
        assertEquals(impostor.toString(), missing.reference());
    }

    @Test
    void aBatchNotClosedUnderReferencesIsRefusedNamingThePathAndTheReference() {
        MissingReferenceException e = assertThrows(MissingReferenceException.class,
            () -> db.register(List.of(info(hello, bash, libc), info(bash))));
        assertEquals(hello.toString(), e.path());
        assertEquals(libc.toString(), e.reference());
        assertTrue(e.getMessage().contains(hello + ": its reference " + libc), e.getMessage());
        assertFalse(db.isValid(bash), "a refused batch leaves no trace");
        assertEquals(0, db.validPathCount());
    }

    @Test
    void aFailingBatchLeavesNoTraceEvenWhenItUpdatesValidPaths() {
        db.register(List.of(info(libc), info(bash, libc)));
        PathInfo newer = PathInfo.of(bash, info(bash).narHash(), 7, List.of(), 42);
        assertThrows(MissingReferenceException.class,
            () -> db.register(List.of(newer, info(hello, path("missing")))));
        assertEquals(Optional.of(info(bash, libc)), db.pathInfo(bash));
        assertEquals(Set.of(bash), db.referrers(libc));
        assertFalse(db.isValid(hello));
    }

    @Test
    void aBatchMayComeInAnyOrderAndReferToItselfAndValidPaths() {
        db.register(List.of(info(libc)));
        db.register(List.of(info(hello, bash, libc, hello), info(bash, libc), info(self, self)));
        assertEquals(Set.of(hello, bash, libc), db.references(hello));
        assertEquals(Set.of(hello), db.referrers(hello));
        assertEquals(Set.of(self), db.references(self));
        assertEquals(Set.of(self), db.referrers(self));
        assertEquals(Set.of(bash, hello), db.referrers(libc));
    }

    @Test
    void aBatchWhoseReferencesFormACycleIsRefused() {
        StorePath app = path("app");
        StoreException e = assertThrows(StoreException.class,
            () -> db.register(List.of(info(app, hello), info(hello, bash), info(bash, app, bash))));
        assertTrue(e.getMessage().contains("reference cycle"), e.getMessage());
        assertEquals(0, db.validPathCount());
        db.register(List.of(info(app, hello, bash), info(hello, bash, hello), info(bash)));
        assertEquals(3, db.validPathCount(), "a diamond with self-references is no cycle");
    }

    @Test
    void reRegisteringAValidPathReplacesItsInfoAndKeepsReferrersConsistent() {
        db.register(List.of(info(libc), info(bash, libc)));
        PathInfo newer = PathInfo.of(bash, info(hello).narHash(), 99, List.of(hello), 1_800_000_000L);
        db.register(List.of(newer, info(hello)));
        assertEquals(Optional.of(newer), db.pathInfo(bash));
        assertEquals(Set.of(), db.referrers(libc));
        assertEquals(Set.of(bash), db.referrers(hello));
        assertEquals(1, db.invalidate(List.of(libc)), "nothing refers to libc any more");
    }

    @Test
    void closureFollowsReferencesOrReferrers() {
        StorePath app = path("app");
        db.register(List.of(info(libc), info(bash, libc), info(hello, bash, hello), info(app, hello), info(self, self)));
        assertEquals(Set.of(app, hello, bash, libc), db.closure(List.of(app), false));
        assertEquals(Set.of(hello, bash, libc, self), db.closure(List.of(hello, self), false));
        assertEquals(Set.of(libc, bash, hello, app), db.closure(List.of(libc), true));
        assertEquals(Set.of(self), db.closure(List.of(self), true));
        assertThrows(PathNotValidException.class, () -> db.closure(List.of(libc, path("nope")), false));
    }

    @Test
    void invalidationIsRefusedWhileAValidReferrerOutsideTheSetExists() {
        db.register(List.of(info(libc), info(bash, libc), info(hello, bash)));
        StillReferencedException e =
            assertThrows(StillReferencedException.class, () -> db.invalidate(List.of(libc, bash)));
        assertEquals(bash.toString(), e.path());
        assertEquals(hello.toString(), e.referrer());
        assertTrue(db.isValid(libc) && db.isValid(bash), "a refused invalidation changes nothing");
        assertEquals(3, db.invalidate(List.of(hello, libc, bash, path("never-registered"))));
        assertEquals(0, db.validPathCount());
        db.register(List.of(info(libc)));
        assertEquals(Set.of(), db.referrers(libc), "no referrer survives its invalidation");
    }

    @Test
    void aSelfReferenceDoesNotHoldUpInvalidation() {
        db.register(List.of(info(self, self)));
        assertEquals(1, db.invalidate(List.of(self)));
        assertFalse(db.isValid(self));
        db.register(List.of(info(self)));
        assertEquals(Set.of(), db.referrers(self));
    }

    @Test
    void pathFromHashPartFindsTheValidPath() {
        db.register(List.of(info(bash)));
        assertEquals(Optional.of(bash), db.pathFromHashPart(bash.hashPart()));
        assertEquals(Optional.empty(), db.pathFromHashPart(libc.hashPart()));
        assertThrows(InvalidStorePathException.class, () -> db.pathFromHashPart("e".repeat(32)));
    }

    @Test
    void derivationOutputsAreRecordedAndTheirValidDeriversFound() {
        StorePath drv = path("hello-2.12.drv");
        StorePath out = path("hello-2.12-out", "hello-2.12");
        StorePath doc = path("hello-2.12-doc", "hello-2.12-doc");
        db.register(List.of(info(drv)), Map.of(drv, Map.of("out", out, "doc", doc)));
        assertEquals(Map.of("out", out, "doc", doc), db.derivationOutputs(drv));
        assertEquals(Set.of(drv), db.validDerivers(out), "outputs need not be valid");
        assertEquals(Set.of(), db.validDerivers(new StorePath(STORE, out.hashPart(), "other-name")));
        db.register(List.of(info(out, out)));
        assertEquals(Set.of(drv), db.validDerivers(out));
        db.invalidate(List.of(drv));
        assertEquals(Set.of(), db.validDerivers(out));
        assertThrows(PathNotValidException.class, () -> db.derivationOutputs(drv));
        db.register(List.of(info(drv)));
        assertEquals(Map.of(), db.derivationOutputs(drv), "an invalidated derivation's outputs are forgotten");
        assertThrows(IllegalArgumentException.class,
            () -> db.register(List.of(info(libc)), Map.of(drv, Map.of("out", out))));
    }

    @Test
    void aDatabaseMadeForAnotherStoreDirIsRefusedNamingBoth() {
        db.close();
        IncompatibleDatabaseException e = assertThrows(IncompatibleDatabaseException.class,
            () -> StoreDatabase.open(dir.resolve("db/lmdb"), "/nix/store"));
        assertTrue(e.getMessage().contains("made for store dir /gnu/store, not /nix/store"), e.getMessage());
        db = StoreDatabase.open(dir.resolve("db/lmdb"), STORE);
    }

    @Test
    void pathsOfAnotherStoreDirAreMisuse() {
        StorePath nix = new StorePath("/nix/store", bash.hashPart(), bash.name());
        assertThrows(IllegalArgumentException.class, () -> db.isValid(nix));
        assertThrows(IllegalArgumentException.class, () -> db.register(List.of(info(nix))));
    }

    @Test
    void aDirectoryOpenInThisProcessCannotBeOpenedAgainUntilClosed() {
        assertThrows(IllegalStateException.class, () -> StoreDatabase.open(dir.resolve("db/lmdb"), STORE));
        db.close();
        assertThrows(IllegalStateException.class, () -> db.isValid(bash));
        db = StoreDatabase.open(dir.resolve("db/lmdb"), STORE);
    }

    @Test
    void theMapGrowsFromATinySizeToHoldThousandsOfPaths() {
        db.close();
        db = StoreDatabase.open(dir.resolve("small"), STORE, 64 * 1024);
        List<StorePath> previous = new ArrayList<>();
        List<PathInfo> batch = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            StorePath p = path(i);
            batch.add(info(p, previous.subList(Math.max(0, previous.size() - 5), previous.size())
                .toArray(new StorePath[0])));
            previous.add(p);
            if (batch.size() == 500) {
                db.register(batch);
                batch.clear();
            }
        }
        assertEquals(5000, db.validPathCount());
        assertEquals(5000, db.closure(List.of(path(4999)), false).size());
        assertEquals(Set.of(path(4995), path(4996), path(4997), path(4998), path(4999)), db.referrers(path(4994)));
        db.close();
        db = StoreDatabase.open(dir.resolve("small"), STORE, 64 * 1024);
        assertEquals(5000, db.validPathCount(), "the grown map is kept on reopening");
    }
}
