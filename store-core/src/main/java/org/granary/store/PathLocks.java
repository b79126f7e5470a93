package org.granary.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Per-path locks, as the daemon takes them around adding, building, substituting and importing an item
 * (store-facts.md §7): an exclusive POSIX lock ({@code fcntl}) on {@code <storepath>.lock} in the store
 * dir, so that Granary and Guix daemons exclude each other.
 *
 * <p>A POSIX lock belongs to a process, so threads of one JVM would not exclude each other through it, and
 * the JDK refuses a second lock on a file the JVM already holds. So a JVM-wide table (a static field,
 * because the OS lock it mirrors is per process) records which thread holds each lock file; a thread
 * waits there for threads of its own JVM, and at the OS lock for other processes. Several paths are locked
 * in sorted order, so two callers locking overlapping sets cannot deadlock.
 *
 * <p>After acquiring the OS lock, a lock file that is not empty was deleted by its holder meanwhile (see
 * {@link Held#deleteLockFilesOnClose()}): the lock is on a dead file, so it is reopened and taken again.
 *
 * <p>Immutable; safe to share between threads. Instances for the same store dir, in one JVM or in several
 * processes, exclude each other. The store dir must exist when the instance is made.
 */
public final class PathLocks {
    /** Which thread of this JVM holds each lock file (by real path); guarded by itself. */
    private static final Map<Path, Thread> HOLDERS = new HashMap<>();
    private static final FileAttribute<Set<PosixFilePermission>> LOCK_FILE_MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final StoreDir storeDir;
    private final Path physicalDir;

    /**
     * Creates the locks of a store dir.
     *
     * @param storeDir the store dir; its physical directory must exist
     * @throws IOException if the physical store dir cannot be resolved
     */
    public PathLocks(StoreDir storeDir) throws IOException {
        this.storeDir = storeDir;
        // The real path, so that two spellings of one store dir share the JVM-wide table.
        this.physicalDir = storeDir.root().resolve(storeDir.logical().substring(1)).toRealPath();
    }

    /**
     * Locks {@code paths}, in sorted order, waiting as long as other threads or processes hold any of them.
     *
     * @param paths the store paths to lock; duplicates count once
     * @return the held locks, to be closed when done
     * @throws IllegalStateException if this thread already holds one of them (waiting would deadlock)
     * @throws InterruptedIOException if the thread is interrupted while waiting; nothing stays locked
     * @throws IOException if a lock file cannot be opened or locked; nothing stays locked
     */
    public Held lock(Collection<StorePath> paths) throws IOException {
        return acquire(paths, true).orElseThrow();
    }

    /**
     * Locks {@code paths} if none is held by another thread or process, without waiting.
     *
     * @param paths the store paths to lock; duplicates count once
     * @return the held locks, or empty if any was held elsewhere (then none is held)
     * @throws IllegalStateException if this thread already holds one of them
     * @throws IOException if a lock file cannot be opened or locked; nothing stays locked
     */
    public Optional<Held> tryLock(Collection<StorePath> paths) throws IOException {
        return acquire(paths, false);
    }

    /**
     * Returns the lock file of a store path: {@code <storepath>.lock} in the physical store dir.
     *
     * @param path a path of this store dir
     * @return its lock file
     */
    public Path lockFile(StorePath path) {
        storeDir.physicalPath(path); // rejects a path of another store dir
        return physicalDir.resolve(path.baseName() + ".lock");
    }

    private Optional<Held> acquire(Collection<StorePath> paths, boolean wait) throws IOException {
        TreeSet<StorePath> sorted = new TreeSet<>(Comparator.comparing(StorePath::baseName));
        sorted.addAll(paths);
        List<Lock> locks = new ArrayList<>(sorted.size());
        try {
            for (StorePath path : sorted) {
                Lock lock = Lock.acquire(lockFile(path), wait);
                if (lock == null) {
                    release(locks, false);
                    return Optional.empty();
                }
                locks.add(lock);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                release(locks, false);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return Optional.of(new Held(List.copyOf(sorted), locks));
    }

    private static void release(List<Lock> locks, boolean delete) throws IOException {
        IOException failure = null;
        for (int i = locks.size() - 1; i >= 0; i--) {
            try {
                locks.get(i).release(delete);
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Locks held on some store paths. Closing releases them (and deletes their lock files if asked).
     *
     * <p>Meant for the thread that took the locks; closing from another thread is allowed. Closing twice
     * does nothing.
     */
    public static final class Held implements AutoCloseable {
        private final List<StorePath> paths;
        private final List<Lock> locks;
        private boolean deleteLockFiles;
        private boolean closed;

        private Held(List<StorePath> paths, List<Lock> locks) {
            this.paths = paths;
            this.locks = locks;
        }

        /**
         * The locked paths, sorted.
         *
         * @return the paths
         */
        public List<StorePath> paths() {
            return paths;
        }

        /**
         * Asks that closing delete the lock files, as the daemon does once the paths are valid: each is
         * unlinked, marked stale for the waiters that already opened it (one byte written), then released.
         */
        public synchronized void deleteLockFilesOnClose() {
            deleteLockFiles = true;
        }

        /**
         * Releases the locks, in reverse order.
         *
         * @throws IOException if a lock file cannot be deleted or closed; the locks are released anyway
         */
        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            release(locks, deleteLockFiles);
        }
    }

    /** One lock file held by this JVM: the in-JVM claim and the OS lock through its open channel. */
    private static final class Lock {
        private final Path file;
        private final FileChannel channel;

        private Lock(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        /** Returns the lock, or null if {@code wait} is false and another thread or process holds it. */
        static Lock acquire(Path file, boolean wait) throws IOException {
            if (!claim(file, wait)) {
                return null;
            }
            try {
                while (true) {
                    FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE,
                            StandardOpenOption.READ, StandardOpenOption.WRITE), LOCK_FILE_MODE);
                    try {
                        FileLock lock = wait ? channel.lock() : channel.tryLock();
                        if (lock == null) {
                            channel.close();
                            unclaim(file);
                            return null;
                        }
                        if (channel.size() == 0) {
                            return new Lock(file, channel);
                        }
                        // Its holder deleted it after we opened it: our lock guards nothing.
                        channel.close();
                    } catch (IOException | RuntimeException | Error e) {
                        channel.close();
                        throw e;
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                unclaim(file);
                throw e;
            }
        }

        void release(boolean delete) throws IOException {
            try (channel) {
                if (delete) {
                    Files.deleteIfExists(file);
                    channel.write(ByteBuffer.wrap(new byte[] {'d'}));
                }
            } finally {
                unclaim(file);
            }
        }

        private static boolean claim(Path file, boolean wait) throws InterruptedIOException {
            synchronized (HOLDERS) {
                while (true) {
                    Thread holder = HOLDERS.get(file);
                    if (holder == null) {
                        HOLDERS.put(file, Thread.currentThread());
                        return true;
                    }
                    if (holder == Thread.currentThread()) {
                        throw new IllegalStateException(
                                "deadlock: trying to re-acquire self-held lock `" + file + "'");
                    }
                    if (!wait) {
                        return false;
                    }
                    try {
                        HOLDERS.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while waiting for the lock " + file);
                    }
                }
            }
        }

        private static void unclaim(Path file) {
            synchronized (HOLDERS) {
                HOLDERS.remove(file);
                HOLDERS.notifyAll();
            }
        }
    }
}
