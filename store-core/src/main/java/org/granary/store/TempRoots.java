package org.granary.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporary GC roots: store paths that must survive a collection while this process uses them (a path
 * being added, imported or built), kept in {@code temproots/<pid>} under the state dir with the daemon's
 * protocol (store-facts.md §7), so that Guix's collector and Granary's see each other's roots.
 *
 * <p>The file is created under the shared {@link GcLock}, then held with a POSIX read lock for as long as
 * the process uses it; a collector that can take a write lock on it knows its owner is dead. Adding a
 * root takes a write lock (which waits while a collector reads the file), appends {@code path\0} and goes
 * back to the read lock. The daemon converts its lock atomically; the JDK cannot convert a lock, so the
 * read lock covers byte 0 for the file's life and the write lock covers bytes 1 onwards: a collector's
 * whole-file locks conflict with both, so its view is the same.
 *
 * <p>A process has one file per state dir: all instances for it in a JVM share it (and its single
 * channel, since closing any descriptor of the file would drop the process's locks on it); the file is
 * removed when the last instance is closed. A root added through any instance lasts until then.
 *
 * <p>Safe to share between threads. {@link #readLive} is the collector's side.
 */
public final class TempRoots implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TempRoots.class);

    /** This JVM's temporary-roots file of each temproots dir (by real path); guarded by itself. */
    private static final Map<Path, OwnFile> OWN_FILES = new HashMap<>();
    /** The bytes from 1 on; see the class documentation. */
    private static final long APPEND_REGION_START = 1;
    private static final long APPEND_REGION_SIZE = Long.MAX_VALUE - 1;

    private final OwnFile file;
    private boolean closed;

    private TempRoots(OwnFile file) {
        this.file = file;
    }

    /**
     * Opens this process's temporary roots in a state dir: creates {@code temproots/} and the file
     * {@code temproots/<pid>} if this JVM has none yet there (waiting while a collector holds
     * {@code gc.lock}), or shares the one it has.
     *
     * @param stateDir the state dir, such as {@code /var/guix}; it must exist
     * @return the temporary roots, to be closed when the process no longer needs them
     * @throws InterruptedIOException if interrupted while waiting for the collector
     * @throws IOException if the file cannot be created or locked
     */
    public static TempRoots open(Path stateDir) throws IOException {
        Path dir = Files.createDirectories(stateDir.resolve("temproots")).toRealPath();
        synchronized (OWN_FILES) {
            OwnFile own = OWN_FILES.get(dir);
            if (own == null) {
                own = OwnFile.create(stateDir, dir);
                OWN_FILES.put(dir, own);
            }
            own.users++;
            return new TempRoots(own);
        }
    }

    /**
     * Makes {@code path} a temporary root of this process, waiting while a collector reads the roots.
     * Once this returns, a collector that starts later keeps the path.
     *
     * @param path the store path
     * @throws IllegalStateException if this instance is closed
     * @throws InterruptedIOException if interrupted while waiting for the collector
     * @throws IOException if the file cannot be locked or written
     */
    public void add(StorePath path) throws IOException {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the temporary roots are closed");
            }
        }
        file.add(path.toString());
    }

    /**
     * The roots this process has added in this state dir, through any instance, in the order added.
     *
     * @return a snapshot
     */
    public Set<String> roots() {
        synchronized (file) {
            return Collections.unmodifiableSet(new LinkedHashSet<>(file.roots));
        }
    }

    /**
     * Closes this instance; the last instance of the process for the state dir removes the file, and its
     * roots stop protecting anything. Closing twice does nothing.
     *
     * @throws IOException if the file cannot be removed or closed
     */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        synchronized (OWN_FILES) {
            if (--file.users == 0) {
                OWN_FILES.remove(file.dir);
                file.remove();
            }
        }
    }

    /**
     * The collector's side: reads the temporary roots of every live process, and removes the files of
     * dead ones (a file whose write lock can be taken has no living owner). Each file read stays
     * read-locked until the result is closed, so that its owner cannot add roots meanwhile (adding waits);
     * this JVM's own roots are frozen likewise. Call it while holding {@link GcLock} exclusively, as the
     * daemon does, and close the result once the deletions are over.
     *
     * <p>Safe to call from any thread; a thread of this JVM adding a root waits until the result is closed,
     * so the thread that reads must not add roots before closing it.
     *
     * @param stateDir the state dir
     * @return the roots, the stale files removed, and the locks that freeze the roots
     * @throws IOException if the directory or a file cannot be read; nothing stays locked
     */
    public static LiveRoots readLive(Path stateDir) throws IOException {
        return readLive(stateDir, true);
    }

    /**
     * As {@link #readLive(Path)}, but with {@code removeStale} false the files of dead processes are
     * only skipped, not removed: for listings, which must change nothing.
     *
     * @param stateDir the state dir
     * @param removeStale whether to remove the files of dead processes
     * @return the roots, the stale files removed (or, without removing, skipped), and the locks that
     *     freeze the roots
     * @throws IOException if the directory or a file cannot be read; nothing stays locked
     */
    public static LiveRoots readLive(Path stateDir, boolean removeStale) throws IOException {
        Path dir = stateDir.resolve("temproots");
        if (!Files.isDirectory(dir)) {
            return new LiveRoots(Set.of(), List.of(), List.of(), null, 0);
        }
        dir = dir.toRealPath();
        OwnFile own;
        synchronized (OWN_FILES) {
            own = OWN_FILES.get(dir);
        }
        Set<String> roots = new TreeSet<>();
        List<Path> removed = new ArrayList<>();
        List<FileChannel> held = new ArrayList<>();
        long stamp = 0;
        try {
            if (own != null) {
                stamp = own.freeze.writeLockInterruptibly();
                synchronized (own) {
                    roots.addAll(own.roots);
                }
            }
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path entry : entries) {
                    files.add(entry);
                }
            }
            files.sort(null);
            for (Path path : files) {
                if (own != null && path.equals(own.path)) {
                    continue; // read from memory: opening it again and closing would drop this JVM's lock
                }
                FileChannel channel;
                try {
                    channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                } catch (NoSuchFileException exited) {
                    continue;
                }
                try {
                    FileLock write = channel.tryLock();
                    if (write != null) {
                        if (removeStale) {
                            Files.deleteIfExists(path);
                            channel.write(ByteBuffer.wrap(new byte[] {'d'}));
                        }
                        channel.close();
                        removed.add(path);
                        LOG.info("removed stale temporary roots file {}", path);
                        continue;
                    }
                    channel.lock(0, Long.MAX_VALUE, true);
                    held.add(channel);
                    readRoots(channel, roots);
                } catch (IOException | RuntimeException | Error e) {
                    channel.close();
                    throw e;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeAll(held, own, stamp, null);
            throw new InterruptedIOException("interrupted while freezing this process's temporary roots");
        } catch (IOException | RuntimeException | Error e) {
            closeAll(held, own, stamp, e);
            throw e;
        }
        return new LiveRoots(Collections.unmodifiableSet(roots), List.copyOf(removed), held, own, stamp);
    }

    private static void readRoots(FileChannel channel, Set<String> roots) throws IOException {
        ByteArrayOutputStream contents = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        long position = 0;
        int n;
        while ((n = channel.read(buffer, position)) > 0) {
            contents.write(buffer.array(), 0, n);
            position += n;
            buffer.clear();
        }
        byte[] bytes = contents.toByteArray();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                if (i > start) {
                    roots.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
    }

    private static void closeAll(List<FileChannel> channels, OwnFile own, long stamp, Throwable failure)
            throws IOException {
        IOException first = null;
        for (FileChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                if (failure != null) {
                    failure.addSuppressed(e);
                } else if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (own != null && stamp != 0) {
            own.freeze.unlockWrite(stamp);
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * The temporary roots of the live processes, as {@link #readLive} found them, with the read locks
     * that keep them from growing until this is closed. Any thread may close it; closing twice does
     * nothing.
     */
    public static final class LiveRoots implements AutoCloseable {
        private final Set<String> roots;
        private final List<Path> removedStaleFiles;
        private final List<FileChannel> held;
        private final OwnFile own;
        private final long stamp;
        private boolean closed;

        private LiveRoots(Set<String> roots, List<Path> removedStaleFiles, List<FileChannel> held, OwnFile own,
                long stamp) {
            this.roots = roots;
            this.removedStaleFiles = removedStaleFiles;
            this.held = held;
            this.own = own;
            this.stamp = stamp;
        }

        /**
         * The roots, as written in the files (store paths, not checked).
         *
         * @return the roots, sorted
         */
        public Set<String> roots() {
            return roots;
        }

        /**
         * The files of dead processes that were removed ({@code removing stale temporary roots file}).
         *
         * @return the files
         */
        public List<Path> removedStaleFiles() {
            return removedStaleFiles;
        }

        /**
         * Releases the read locks: the owners may add roots again.
         *
         * @throws IOException if a file cannot be closed
         */
        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            closeAll(held, own, stamp, null);
        }
    }

    /** This process's file in one temproots dir, shared by the JVM's instances. */
    private static final class OwnFile {
        final Path dir;
        final Path path;
        final FileChannel channel;
        /** Held for reading by additions and for writing by this JVM's collector; see {@link #readLive}. */
        final StampedLock freeze = new StampedLock();
        /** Guarded by this. */
        final Set<String> roots = new LinkedHashSet<>();
        /** Guarded by OWN_FILES. */
        int users;

        private OwnFile(Path dir, Path path, FileChannel channel) {
            this.dir = dir;
            this.path = path;
            this.channel = channel;
        }

        /** The daemon's creation protocol: under gc.lock, replace a leftover; then read-lock, retry if deleted. */
        static OwnFile create(Path stateDir, Path dir) throws IOException {
            Path path = dir.resolve(Long.toString(ProcessHandle.current().pid()));
            GcLock gcLock = GcLock.at(stateDir);
            while (true) {
                FileChannel channel;
                GcLock.Held shared = gcLock.lockShared();
                try {
                    // A file with our pid was left by a dead process with the same pid.
                    Files.deleteIfExists(path);
                    channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
                                    PosixFilePermissions.fromString("rw-------")));
                } finally {
                    shared.close();
                }
                try {
                    PollingLocks.lock(channel, 0, 1, true, path.toString());
                    if (channel.size() == 0) {
                        return new OwnFile(dir, path, channel);
                    }
                    // A collector found it unlocked and deleted it before we locked it.
                    channel.close();
                } catch (IOException | RuntimeException | Error e) {
                    channel.close();
                    throw e;
                }
            }
        }

        void add(String root) throws IOException {
            long stamp;
            try {
                stamp = freeze.readLockInterruptibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the collector");
            }
            try {
                synchronized (this) {
                    if (!roots.add(root)) {
                        return;
                    }
                    boolean written = false;
                    try {
                        FileLock write = PollingLocks.lock(channel, APPEND_REGION_START, APPEND_REGION_SIZE, false,
                                path.toString());
                        try {
                            ByteBuffer bytes = ByteBuffer.wrap((root + "\0").getBytes(StandardCharsets.UTF_8));
                            long position = channel.size();
                            while (bytes.hasRemaining()) {
                                position += channel.write(bytes, position);
                            }
                            written = true;
                        } finally {
                            write.release();
                        }
                    } finally {
                        if (!written) {
                            roots.remove(root);
                        }
                    }
                }
            } finally {
                freeze.unlockRead(stamp);
            }
        }

        /** Unlinks, then closes (which releases the read lock), as the daemon does on exit. */
        void remove() throws IOException {
            try (channel) {
                Files.deleteIfExists(path);
            }
        }
    }
}
