package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TempRootsTest {
    private static final String A = "/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";
    private static final String B = "/gnu/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";
    private static final String C = "/gnu/store/cccccccccccccccccccccccccccccccc-c";

    @TempDir
    Path stateDir;

    private final long pid = ProcessHandle.current().pid();

    @Test
    void rootsAreAppendedWithNulAndTheFileIsRemovedOnClose() throws Exception {
        Path file = stateDir.resolve("temproots/" + pid);
        try (TempRoots roots = TempRoots.open(stateDir)) {
            roots.add(path(A));
            roots.add(path(B));
            roots.add(path(A));
            assertEquals(A + "\0" + B + "\0", Files.readString(file, StandardCharsets.UTF_8));
            assertEquals(List.of(A, B), List.copyOf(roots.roots()));
        }
        assertFalse(Files.exists(file));
        assertTrue(Files.exists(stateDir.resolve("gc.lock")));
    }

    @Test
    void instancesOfOneJvmShareTheFileUntilTheLastCloses() throws Exception {
        Path file = stateDir.resolve("temproots/" + pid);
        TempRoots first = TempRoots.open(stateDir);
        try (TempRoots second = TempRoots.open(stateDir)) {
            first.add(path(A));
            second.add(path(B));
            first.close();
            assertThrows(IllegalStateException.class, () -> first.add(path(C)));
            assertTrue(Files.exists(file));
            try (TempRoots.LiveRoots live = TempRoots.readLive(stateDir)) {
                assertEquals(Set.of(A, B), live.roots());
            }
        }
        assertFalse(Files.exists(file));
    }

    @Test
    void aLeftoverFileWithThisPidIsReplaced() throws Exception {
        Files.createDirectories(stateDir.resolve("temproots"));
        Path file = stateDir.resolve("temproots/" + pid);
        Files.writeString(file, C + "\0");
        try (TempRoots roots = TempRoots.open(stateDir)) {
            roots.add(path(A));
            assertEquals(A + "\0", Files.readString(file));
        }
    }

    @Test
    void creatingTheFileWaitsForTheCollector() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        GcLock.Held collector = GcLock.at(stateDir).lockExclusive();
        try {
            Future<TempRoots> opening = other.submit(() -> TempRoots.open(stateDir));
            assertThrows(TimeoutException.class, () -> opening.get(200, TimeUnit.MILLISECONDS));
            collector.close();
            opening.get(5, TimeUnit.SECONDS).close();
        } finally {
            collector.close();
            other.shutdownNow();
        }
    }

    @Test
    void addingWaitsWhileThisJvmsCollectorHoldsTheRoots() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (TempRoots roots = TempRoots.open(stateDir)) {
            roots.add(path(A));
            TempRoots.LiveRoots live = TempRoots.readLive(stateDir);
            assertEquals(Set.of(A), live.roots());
            Future<?> adding = other.submit(() -> {
                roots.add(path(B));
                return null;
            });
            assertThrows(TimeoutException.class, () -> adding.get(200, TimeUnit.MILLISECONDS));
            live.close();
            adding.get(5, TimeUnit.SECONDS);
            assertEquals(List.of(A, B), List.copyOf(roots.roots()));
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void aLiveChildsRootIsSeenAndItsFileRemovedAsStaleOnceKilled() throws Exception {
        try (LockingChild.Child child = LockingChild.start("added", "temp-root", stateDir.toString(), A)) {
            Path file = stateDir.resolve("temproots/" + child.process.pid());
            try (TempRoots.LiveRoots live = TempRoots.readLive(stateDir)) {
                assertEquals(Set.of(A), live.roots());
                assertEquals(List.of(), live.removedStaleFiles());
            }
            assertTrue(Files.exists(file));

            child.process.destroyForcibly();
            child.waitFor();

            try (TempRoots.LiveRoots live = TempRoots.readLive(stateDir)) {
                assertEquals(Set.of(), live.roots());
                assertEquals(List.of(stateDir.toRealPath().resolve("temproots/" + child.process.pid())),
                        live.removedStaleFiles());
            }
            assertFalse(Files.exists(file));
        }
    }

    @Test
    void whileTheCollectorReadsAnotherProcessWaitsToAddARoot() throws Exception {
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try (LockingChild.Child child = LockingChild.start("added", "temp-root", stateDir.toString(), A)) {
            TempRoots.LiveRoots live = TempRoots.readLive(stateDir);
            assertEquals(Set.of(A), live.roots());
            child.send(B);
            Future<String> answer = reader.submit(child::readLine);
            assertThrows(TimeoutException.class, () -> answer.get(300, TimeUnit.MILLISECONDS));
            live.close();
            assertEquals("added", answer.get(5, TimeUnit.SECONDS));
            try (TempRoots.LiveRoots after = TempRoots.readLive(stateDir)) {
                assertEquals(Set.of(A, B), after.roots());
            }
            child.proceed();
            assertEquals("removed", child.readLine());
            assertEquals(0, child.waitFor());
            try (TempRoots.LiveRoots after = TempRoots.readLive(stateDir)) {
                assertEquals(Set.of(), after.roots());
                assertEquals(List.of(), after.removedStaleFiles(), "a process that exits removes its own file");
            }
        } finally {
            reader.shutdownNow();
        }
    }

    @Test
    void withoutATemprootsDirThereAreNoRoots() throws Exception {
        try (TempRoots.LiveRoots live = TempRoots.readLive(stateDir)) {
            assertEquals(Set.of(), live.roots());
        }
    }

    private static StorePath path(String text) {
        return StorePath.parse(text, "/gnu/store");
    }
}
