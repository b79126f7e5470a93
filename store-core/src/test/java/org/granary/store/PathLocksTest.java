package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathLocksTest {
    private static final String A = "/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";
    private static final String B = "/gnu/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";

    @TempDir
    Path root;

    private StoreDir storeDir;
    private PathLocks locks;
    private StorePath a;
    private StorePath b;

    @BeforeEach
    void makeStore() throws Exception {
        storeDir = StoreDir.of("/gnu/store", root);
        Files.createDirectories(root.resolve("gnu/store"));
        locks = new PathLocks(storeDir);
        a = StorePath.parse(A, storeDir);
        b = StorePath.parse(B, storeDir);
    }

    @Test
    void theLockFileIsThePathWithDotLockInTheStoreDir() throws Exception {
        try (PathLocks.Held held = locks.lock(List.of(b, a, b))) {
            assertEquals(List.of(a, b), held.paths());
            Path file = root.resolve("gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.lock").toRealPath();
            assertEquals(file, locks.lockFile(a));
            assertEquals(0, Files.size(file));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(file)));
        }
        assertTrue(Files.exists(locks.lockFile(a)), "kept unless deletion was asked for");
    }

    @Test
    void threadsOfOneJvmExcludeEachOther() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            PathLocks.Held held = locks.lock(List.of(a));
            assertEquals(Optional.empty(), other.submit(() -> locks.tryLock(List.of(a))).get());
            Future<PathLocks.Held> waiting = other.submit(() -> locks.lock(List.of(a)));
            assertThrows(TimeoutException.class, () -> waiting.get(200, TimeUnit.MILLISECONDS));
            held.close();
            waiting.get(5, TimeUnit.SECONDS).close();
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void relockingAPathThisThreadHoldsIsRefused() throws Exception {
        try (PathLocks.Held held = locks.lock(List.of(a))) {
            assertEquals(List.of(a), held.paths());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> locks.lock(List.of(b, a)));
            assertEquals("deadlock: trying to re-acquire self-held lock `" + locks.lockFile(a) + "'", e.getMessage());
            assertTrue(locks.tryLock(List.of(b)).isPresent(), "b was released when a failed");
        }
    }

    @Test
    void aLockHeldByAnotherProcessExcludesThisOneUntilReleased() throws Exception {
        try (LockingChild.Child child = LockingChild.start("locked", "path-lock", root.toString(), "/gnu/store", A, "keep")) {
            assertEquals(Optional.empty(), locks.tryLock(List.of(a)));
            assertEquals(Optional.empty(), locks.tryLock(List.of(b, a)));
            assertTrue(locks.tryLock(List.of(b)).orElseThrow().paths().contains(b));
            child.proceed();
            assertEquals("released", child.readLine());
            assertEquals(0, child.waitFor());
            try (PathLocks.Held held = locks.tryLock(List.of(a)).orElseThrow()) {
                assertEquals(List.of(a), held.paths());
            }
        }
    }

    @Test
    void aWaiterRetriesWhenTheHolderDeletesTheLockFile() throws Exception {
        try (LockingChild.Child child = LockingChild.start("locked", "path-lock", root.toString(), "/gnu/store", A, "delete")) {
            Path file = locks.lockFile(a);
            CompletableFuture<PathLocks.Held> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return locks.lock(List.of(a));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(300); // the waiter has opened the old lock file and waits in fcntl
            assertFalse(waiting.isDone());
            child.proceed();
            assertEquals("released", child.readLine());
            try (PathLocks.Held held = waiting.get(10, TimeUnit.SECONDS)) {
                assertTrue(Files.exists(file), "the waiter locked a new lock file, not the deleted one");
                assertEquals(0, Files.size(file));
                held.deleteLockFilesOnClose();
            }
            assertFalse(Files.exists(file));
        }
    }

    @Test
    void lockingOverlappingSetsInEitherOrderDoesNotDeadlock() {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<Object>> done = pool.invokeAll(List.of(
                        () -> lockRepeatedly(List.of(a, b), inside, overlaps),
                        () -> lockRepeatedly(List.of(b, a), inside, overlaps)));
                for (Future<Object> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        });
        assertEquals(0, overlaps.get());
    }

    private Object lockRepeatedly(List<StorePath> paths, AtomicInteger inside, AtomicInteger overlaps)
            throws Exception {
        for (int i = 0; i < 300; i++) {
            try (PathLocks.Held held = locks.lock(paths)) {
                if (inside.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                if (i % 2 == 1) {
                    held.deleteLockFilesOnClose();
                }
                inside.decrementAndGet();
            }
        }
        return null;
    }

    @Test
    void aPathOfAnotherStoreDirHasNoLockHere() {
        StorePath nix = StorePath.parse("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a", "/nix/store");
        assertThrows(IllegalArgumentException.class, () -> locks.lock(List.of(nix)));
    }
}
