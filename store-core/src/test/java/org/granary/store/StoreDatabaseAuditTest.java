package org.granary.store;

import static org.granary.store.DbFixtures.STORE;
import static org.granary.store.DbFixtures.info;
import static org.granary.store.DbFixtures.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreDatabaseAuditTest {
    @TempDir
    Path dir;

    private final StorePath libc = path("glibc-2.39");
    private final StorePath bash = path("bash-5.2");
    private final StorePath hello = path("hello-2.12");
    private final StorePath gone = path("gone-1.0");

    /** What an audit reported. */
    private static final class Recorder implements DatabaseAudit {
        final List<PathInfo> items = new ArrayList<>();
        final List<Problem> problems = new ArrayList<>();

        @Override
        public void item(PathInfo info) {
            items.add(info);
        }

        @Override
        public void problem(Problem problem) {
            problems.add(problem);
        }
    }

    private Path dbDir() {
        return dir.resolve("db/lmdb");
    }

    private Recorder audit() {
        try (StoreDatabase db = StoreDatabase.open(dbDir(), STORE)) {
            Recorder recorder = new Recorder();
            db.audit(recorder);
            return recorder;
        }
    }

    private void register(List<PathInfo> infos) {
        try (StoreDatabase db = StoreDatabase.open(dbDir(), STORE)) {
            db.register(infos);
        }
    }

    @Test
    void aSoundDatabaseGivesEveryItemWithoutItsReferencesAndNoProblem() {
        register(List.of(info(libc), info(bash, libc), info(hello, bash, libc, hello)));
        Recorder recorder = audit();
        assertEquals(List.of(), recorder.problems);
        assertEquals(3, recorder.items.size());
        for (PathInfo item : recorder.items) {
            assertTrue(item.references().isEmpty(), item.toString());
        }
        assertEquals(List.of(bash, hello, libc).stream().sorted().toList(),
            recorder.items.stream().map(PathInfo::path).sorted().toList());
    }

    @Test
    void aReferenceWithoutItsReferrerIsReportedAndTheAuditCarriesOn() {
        register(List.of(info(libc), info(bash, libc), info(hello, libc)));
        DatabaseDamage.dropReferrer(dbDir(), libc, bash);
        Recorder recorder = audit();
        assertEquals(3, recorder.items.size());
        assertEquals(1, recorder.problems.size(), recorder.problems.toString());
        DatabaseAudit.Problem problem = recorder.problems.get(0);
        assertEquals(DatabaseAudit.Kind.MISSING_REFERRER, problem.kind());
        assertEquals(bash.toString(), problem.subject());
        assertTrue(problem.actual().contains(libc.toString()), problem.actual());
    }

    @Test
    void anEdgeToAPathThatIsNotValidIsDangling() {
        register(List.of(info(libc), info(bash, libc)));
        DatabaseDamage.addReference(dbDir(), bash, gone);
        DatabaseDamage.addReferrer(dbDir(), gone, bash);
        Recorder recorder = audit();
        assertEquals(List.of(DatabaseAudit.Kind.DANGLING_REFERENCE), recorder.problems.stream()
            .map(DatabaseAudit.Problem::kind).toList(), recorder.problems.toString());
        assertEquals(bash.toString(), recorder.problems.get(0).subject());
        assertTrue(recorder.problems.get(0).actual().contains(gone.hashPart()));
    }

    @Test
    void anEdgeFromAPathThatIsNotValidIsDanglingAndMissingItsReferrer() {
        register(List.of(info(libc)));
        DatabaseDamage.addReference(dbDir(), gone, libc);
        Recorder recorder = audit();
        assertEquals(List.of(DatabaseAudit.Kind.DANGLING_REFERENCE, DatabaseAudit.Kind.MISSING_REFERRER),
            recorder.problems.stream().map(DatabaseAudit.Problem::kind).toList(), recorder.problems.toString());
        assertEquals(gone.hashPart(), recorder.problems.get(0).subject());
    }

    @Test
    void aReferrerWithoutItsReferenceIsStray() {
        register(List.of(info(libc), info(bash)));
        DatabaseDamage.addReferrer(dbDir(), libc, bash);
        Recorder recorder = audit();
        assertEquals(List.of(DatabaseAudit.Kind.STRAY_REFERRER), recorder.problems.stream()
            .map(DatabaseAudit.Problem::kind).toList());
        assertEquals(libc.toString(), recorder.problems.get(0).subject());
        assertTrue(recorder.problems.get(0).actual().contains(bash.toString()));
    }

    @Test
    void aRecordThatDoesNotDecodeIsReportedAndTheOtherItemsStillCome() {
        register(List.of(info(libc), info(bash)));
        DatabaseDamage.corruptRecord(dbDir(), bash);
        Recorder recorder = audit();
        assertEquals(List.of(libc), recorder.items.stream().map(PathInfo::path).toList());
        assertEquals(1, recorder.problems.size());
        assertEquals(DatabaseAudit.Kind.CORRUPT_RECORD, recorder.problems.get(0).kind());
        assertEquals(bash.hashPart(), recorder.problems.get(0).subject());
    }

    @Test
    void aDeriverThatIsNotValidIsReported() {
        register(List.of(info(libc), info(bash).withDeriver(path("bash-5.2.drv"))));
        Recorder recorder = audit();
        assertEquals(1, recorder.problems.size());
        assertEquals(DatabaseAudit.Kind.INVALID_DERIVER, recorder.problems.get(0).kind());
        assertEquals(bash.toString(), recorder.problems.get(0).subject());
    }
}
