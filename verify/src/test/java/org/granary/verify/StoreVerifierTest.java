package org.granary.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.granary.nar.FileTrees;
import org.granary.store.DatabaseDamage;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.PathInfo;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreVerifierTest {
    @TempDir
    Path tmp;

    private TestStore store;

    @BeforeEach
    void makeStore() throws IOException {
        store = TestStore.create(tmp.resolve("root"), tmp.resolve("scratch"));
    }

    /** The verifier under test; {@link StoreVerifierJavaHashingTest} hashes in Java. */
    StoreVerifier verifier() {
        return store.verifier();
    }

    /** The store the tests damage. */
    TestStore store() {
        return store;
    }

    private Report verify(boolean contents) throws IOException {
        return verifier().verify(VerifyOptions.defaults().withContents(contents));
    }

    private Report repair(Substituter... substituters) throws IOException {
        return verifier().verify(VerifyOptions.defaults().withContents(true).withRepair(true)
            .withSubstituters(List.of(substituters)));
    }

    private static List<Finding> of(Report report, Finding.Kind kind) {
        return report.findings().stream().filter(f -> f.kind() == kind).toList();
    }

    private static void assertOnly(Report report, Finding.Kind kind, StorePath path) {
        assertEquals(List.of(path.toString()), report.findings().stream().map(Finding::path).distinct().toList(),
            report.findings().toString());
        assertFalse(of(report, kind).isEmpty(), report.findings().toString());
    }

    @Test
    void aSoundStoreHasNoFindingAndEveryItemIsHashed() throws IOException {
        List<Progress> reports = Collections.synchronizedList(new ArrayList<>());
        Report report = verifier().verify(VerifyOptions.defaults().withContents(true).withJobs(3)
            .withListener(reports::add));
        assertEquals(List.of(), report.findings());
        assertTrue(report.sound());
        assertEquals(4, report.summary().items());
        assertEquals(4, report.summary().itemsHashed());
        long narBytes = 0;
        try (StoreDatabase db = StoreDatabase.open(store.config.databaseDir(), "/gnu/store")) {
            for (StorePath path : store.items.values()) {
                narBytes += db.pathInfo(path).orElseThrow().narSize();
            }
        }
        assertEquals(narBytes, report.summary().bytesHashed());
        Progress last = reports.stream().filter(p -> p.phase() == Progress.Phase.CONTENTS)
            .max(java.util.Comparator.comparingLong(Progress::itemsDone)).orElseThrow();
        assertEquals(new Progress(Progress.Phase.CONTENTS, 4, 4, narBytes, narBytes), last);
    }

    @Test
    void aDeletedItemIsMissing() throws IOException {
        FileTrees.deleteTree(store.physical("tree"));
        Report report = verify(false);
        assertOnly(report, Finding.Kind.MISSING, store.path("tree"));
        assertFalse(report.sound());
        assertEquals(1, report.summary().remaining());
    }

    @Test
    void changedContentsAreFoundWithTheExpectedAndActualNarHash() throws IOException {
        store.unlock("tree");
        Path a = store.physical("tree").resolve("a");
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rw-r--r--"));
        Files.writeString(a, "file A\n");
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("r--r--r--"));
        Files.setLastModifiedTime(a, FileTime.fromMillis(1000));
        canonicaliseDirectories("tree");
        Report report = verify(true);
        assertOnly(report, Finding.Kind.CONTENTS, store.path("tree"));
        Finding finding = of(report, Finding.Kind.CONTENTS).get(0);
        PathInfo info = info("tree");
        assertEquals(ItemChecker.describe(info.narHash(), info.narSize()), finding.expected());
        assertEquals(ItemChecker.describe(Hash.ofNar(store.physical("tree"), HashAlgorithm.SHA256), info.narSize()),
            finding.actual());
        assertTrue(finding.damage());
        assertEquals(Finding.Action.NONE, finding.action());
        assertTrue(verify(false).sound(), "without --contents the change is invisible");
    }

    @Test
    void aTruncatedFileAnAddedFileAndADeletedFileAreContentsFindings() throws IOException {
        Path big = store.physical("big");
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-r--r--"));
        Files.newOutputStream(big, StandardOpenOption.TRUNCATE_EXISTING).close();
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("r--r--r--"));
        Files.setLastModifiedTime(big, FileTime.fromMillis(1000));
        Report truncated = verify(true);
        assertOnly(truncated, Finding.Kind.CONTENTS, store.path("big"));
        assertTrue(of(truncated, Finding.Kind.CONTENTS).get(0).actual().endsWith(", 112 bytes"),
            truncated.findings().toString());

        store.unlock("tree");
        Files.writeString(store.physical("tree").resolve("sub/added"), "x");
        Files.delete(store.physical("tree").resolve("run"));
        canonicaliseDirectories("tree");
        Path added = store.physical("tree").resolve("sub/added");
        Files.setPosixFilePermissions(added, PosixFilePermissions.fromString("r--r--r--"));
        Files.setLastModifiedTime(added, FileTime.fromMillis(1000));
        Report report = verify(true);
        assertEquals(java.util.Set.of(store.path("big").toString(), store.path("tree").toString()),
            java.util.Set.copyOf(of(report, Finding.Kind.CONTENTS).stream().map(Finding::path).toList()));
        assertEquals(2, report.findings().size(), report.findings().toString());
    }

    @Test
    void modesAndTimesThatAreNotCanonicalAreMetadataFindingsNamingTheFile() throws IOException {
        Path a = store.physical("tree").resolve("a");
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rw-r--r--"));
        Report report = verify(true);
        assertOnly(report, Finding.Kind.METADATA, store.path("tree"));
        Finding finding = report.findings().get(0);
        assertEquals(a.toString(), finding.file());
        assertEquals("mode 0444", finding.expected());
        assertEquals("mode 0644", finding.actual());

        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("r--r--r--"));
        Files.setLastModifiedTime(store.physical("leaf"), FileTime.fromMillis(5000));
        Report time = verify(false);
        assertOnly(time, Finding.Kind.METADATA, store.path("leaf"));
        assertTrue(time.findings().get(0).actual().startsWith("mtime "), time.findings().toString());
    }

    @Test
    void aFileThatCannotBeArchivedIsNamedAndTheOtherItemsAreStillChecked() throws IOException, InterruptedException {
        store.unlock("tree");
        Path fifo = store.physical("tree").resolve("sub/fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        canonicaliseDirectories("tree");
        Path big = store.physical("big");
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(big, new byte[] {1}, StandardOpenOption.APPEND);
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("r--r--r--"));
        Files.setLastModifiedTime(big, FileTime.fromMillis(1000));
        Report report = verify(true);
        List<Finding> contents = of(report, Finding.Kind.CONTENTS);
        assertEquals(java.util.Set.of(store.path("big").toString(), store.path("tree").toString()),
            java.util.Set.copyOf(contents.stream().map(Finding::path).toList()), report.findings().toString());
        Finding unreadable = contents.stream().filter(f -> f.path().equals(store.path("tree").toString()))
            .findFirst().orElseThrow();
        assertEquals(fifo.toString(), unreadable.file());
        assertTrue(unreadable.actual().startsWith("unreadable: "), unreadable.actual());
    }

    @Test
    void databaseInconsistenciesAreReferenceFindingsAndAnInvalidDeriverIsNotDamage() throws IOException {
        DatabaseDamage.dropReferrer(store.config.databaseDir(), store.path("leaf"), store.path("user"));
        Report report = verify(false);
        assertEquals(1, report.findings().size(), report.findings().toString());
        Finding finding = report.findings().get(0);
        assertEquals(Finding.Kind.REFERENCE, finding.kind());
        assertEquals(store.path("user").toString(), finding.path());
        assertTrue(finding.damage());
        assertFalse(report.sound());

        StorePath drv = new StorePath("/gnu/store", store.path("big").hashPart().replace('0', '1')
            .replace('a', 'b'), "big.drv");
        PathInfo big = info("big").withDeriver(drv);
        PathInfo user = info("user");
        try (StoreDatabase db = StoreDatabase.open(store.config.databaseDir(), "/gnu/store")) {
            db.register(List.of(big));
            db.register(List.of(user));
        }
        Report deriver = verify(false);
        assertEquals(1, deriver.findings().size(), deriver.findings().toString());
        assertFalse(deriver.findings().get(0).damage());
        assertTrue(deriver.sound());
    }

    @Test
    void entriesThatAreNotValidItemsAreLeftoversButNotDamage() throws IOException {
        Path storeDir = store.config.physicalStoreDir();
        Files.writeString(storeDir.resolve("junk"), "x");
        Files.createDirectory(storeDir.resolve(".granary-add-999999999-abc"));
        Files.createFile(storeDir.resolve(store.path("leaf").baseName() + ".lock"));
        Files.createDirectory(storeDir.resolve(".links"));
        String unregistered = store.path("big").hashPart().replace('1', '2').replace('a', 'c') + "-never";
        Files.createDirectory(storeDir.resolve(unregistered));
        Report report = verify(true);
        assertTrue(report.sound());
        List<Finding> leftovers = of(report, Finding.Kind.LEFTOVER);
        assertEquals(report.findings(), leftovers);
        assertEquals(4, leftovers.size(), leftovers.toString());
        for (Finding leftover : leftovers) {
            assertFalse(leftover.damage());
            assertNotNull(leftover.actual());
        }
        assertTrue(leftovers.stream().anyMatch(f -> f.actual().contains("process 999999999 (no longer running)")),
            leftovers.toString());
        assertTrue(leftovers.stream().anyMatch(f -> f.path().endsWith(".lock") && f.actual().startsWith("lock file")));
        assertTrue(leftovers.stream().anyMatch(f -> f.path().endsWith("-never") && f.actual().startsWith("not a valid")));
    }

    @Test
    void withoutRepairNothingChangesWhateverIsWrong() throws IOException {
        damageEveryWay();
        Map<String, String> before = StoreSnapshot.take(store.config, store.root);
        Report report = verifier().verify(VerifyOptions.defaults().withContents(true));
        assertFalse(report.sound());
        assertEquals(Finding.Kind.values().length, report.findings().stream().map(Finding::kind).distinct().count(),
            report.findings().toString());
        assertEquals(before, StoreSnapshot.take(store.config, store.root));
        for (Finding finding : report.findings()) {
            assertEquals(Finding.Action.NONE, finding.action());
        }
    }

    @Test
    void repairReCanonicalisesAndRestoresFromASubstituterWhoseNarHasTheDatabasesHash() throws IOException {
        NarDirectory cache = NarDirectory.of(tmp.resolve("cache"), store.config, store.items.values());
        Map<String, String> pristine = StoreSnapshot.take(store.config, store.config.physicalStoreDir());
        Files.setPosixFilePermissions(store.physical("leaf"), PosixFilePermissions.fromString("rw-rw-r--"));
        FileTrees.deleteTree(store.physical("tree"));
        Path big = store.physical("big");
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(big, new byte[] {1, 2, 3}, StandardOpenOption.TRUNCATE_EXISTING);
        Report report = repair(cache);
        assertTrue(report.sound(), report.findings().toString());
        assertEquals(4, report.summary().repaired(), report.findings().toString());
        for (Finding finding : report.findings()) {
            assertEquals(Finding.Action.REPAIRED, finding.action(), finding.toString());
        }
        assertEquals("canonicalised", of(report, Finding.Kind.METADATA).stream()
            .filter(f -> f.path().equals(store.path("leaf").toString())).findFirst().orElseThrow().detail());
        assertEquals("from " + cache.uri(), of(report, Finding.Kind.MISSING).get(0).detail());
        assertEquals(List.of(), verify(true).findings());
        assertEquals(pristine, StoreSnapshot.take(store.config, store.config.physicalStoreDir()));
    }

    @Test
    void aSubstituteWithAnotherNarIsRefusedAndTheItemLeftAsItWas() throws IOException {
        NarDirectory cache = NarDirectory.of(tmp.resolve("cache"), store.config, store.items.values());
        // The cache offers the leaf's NAR for the big file: a substituter's word is not enough.
        Files.copy(cache.nar(store.path("leaf")), cache.nar(store.path("big")),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path big = store.physical("big");
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(big, new byte[] {1, 2, 3}, StandardOpenOption.TRUNCATE_EXISTING);
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("r--r--r--"));
        Files.setLastModifiedTime(big, FileTime.fromMillis(1000));
        Report report = repair(cache);
        assertFalse(report.sound());
        Finding finding = of(report, Finding.Kind.CONTENTS).get(0);
        assertEquals(Finding.Action.FAILED, finding.action());
        assertTrue(finding.detail().contains("the database has"), finding.detail());
        assertEquals(3, Files.size(big));
        try (var entries = Files.list(store.config.physicalStoreDir())) {
            assertEquals(List.of(), entries.filter(p -> p.getFileName().toString().startsWith(".granary")).toList(),
                "the refused substitute's temporary copy is gone");
        }
    }

    @Test
    void aMissingItemNothingRefersToIsInvalidatedAndAReferredOneIsReportedAsNotRepaired() throws IOException {
        FileTrees.deleteTree(store.physical("leaf"));
        FileTrees.deleteTree(store.physical("tree"));
        Report report = repair();
        Finding leaf = report.findings().stream().filter(f -> f.path().equals(store.path("leaf").toString()))
            .findFirst().orElseThrow();
        Finding tree = report.findings().stream().filter(f -> f.path().equals(store.path("tree").toString()))
            .findFirst().orElseThrow();
        assertEquals(Finding.Action.FAILED, leaf.action());
        assertTrue(leaf.detail().contains("still referred to by " + store.path("user")), leaf.detail());
        assertEquals(Finding.Action.INVALIDATED, tree.action());
        assertFalse(report.sound());
        try (StoreDatabase db = StoreDatabase.open(store.config.databaseDir(), "/gnu/store")) {
            assertFalse(db.isValid(store.path("tree")));
            assertTrue(db.isValid(store.path("leaf")));
        }

        // With its only referrer missing too, the leaf goes with it.
        FileTrees.deleteTree(store.physical("user"));
        Report both = repair();
        assertTrue(both.sound(), both.findings().toString());
        assertEquals(2, both.summary().invalidated());
    }

    @Test
    void aStoreWithoutADatabaseIsAnErrorAndNothingIsCreated() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty/gnu/store"));
        Files.createDirectories(tmp.resolve("empty/var/guix"));
        StoreVerifier verifier = new StoreVerifier(org.granary.store.StoreConfig.under(tmp.resolve("empty")));
        assertThrows(NoSuchFileException.class, () -> verifier.verify(VerifyOptions.defaults()));
        assertFalse(Files.exists(tmp.resolve("empty/var/guix/db")));
        assertNull(null);
    }

    /** One damage of each kind, each in its own item where they would otherwise hide each other. */
    private void damageEveryWay() throws IOException {
        FileTrees.deleteTree(store.physical("leaf"));
        Path big = store.physical("big");
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(big, new byte[] {1}, StandardOpenOption.APPEND);
        Files.setPosixFilePermissions(store.physical("tree").resolve("a"), PosixFilePermissions.fromString("rw-r--r--"));
        DatabaseDamage.dropReferrer(store.config.databaseDir(), store.path("leaf"), store.path("user"));
        Files.writeString(store.config.physicalStoreDir().resolve("junk"), "x");
    }

    /** Puts an item's directories back to 0555 and mtime 1, after a test changed files inside. */
    private void canonicaliseDirectories(String name) throws IOException {
        try (var walk = Files.walk(store.physical(name))) {
            for (Path p : walk.toList()) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r-xr-xr-x"));
                    Files.setLastModifiedTime(p, FileTime.fromMillis(1000));
                }
            }
        }
    }

    private PathInfo info(String name) throws IOException {
        try (StoreDatabase db = StoreDatabase.open(store.config.databaseDir(), "/gnu/store")) {
            return db.pathInfo(store.path(name)).orElseThrow();
        }
    }
}
