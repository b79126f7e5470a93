package org.granary.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The big garbage collector lock, {@code gc.lock} in the state dir (store-facts.md §7): the collector
 * holds it exclusively while it finds roots and deletes; creating a temporary-roots file (and syncing with
 * the collector after adding a permanent root) holds it shared. It is a POSIX lock, so Granary and Guix
 * daemons exclude each other through it.
 *
 * <p>All instances for one file in a JVM share one channel, opened once and kept open for the JVM's life
 * (closing any descriptor of the file would drop the process's POSIX locks on it), and a JVM-wide count
 * of shared holders: the first shared holder takes the OS shared lock and the last releases it, an
 * exclusive holder waits for none in the JVM and then takes the OS exclusive lock. The table is a static
 * field because the OS lock it mirrors belongs to the process.
 *
 * <p>Safe to share between threads; instances for the same state dir, in one JVM or in several processes,
 * exclude each other. Waiting is interruptible ({@link InterruptedIOException}).
 */
public final class GcLock {
    /** The state of each gc.lock file (by real path) in this JVM; guarded by itself. */
    private static final Map<Path, State> STATES = new HashMap<>();

    private final State state;

    private GcLock(State state) {
        this.state = state;
    }

    /**
     * Returns the lock {@code gc.lock} of a state dir, creating the file (mode 0600) if missing.
     *
     * @param stateDir the state dir, such as {@code /var/guix}; it must exist
     * @return the lock
     * @throws IOException if the file cannot be created or opened
     */
    public static GcLock at(Path stateDir) throws IOException {
        Path file = stateDir.resolve("gc.lock");
        if (!Files.exists(file)) {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // Another thread or process created it first: just as good.
            }
        }
        Path real = file.toRealPath();
        synchronized (STATES) {
            State state = STATES.get(real);
            if (state == null) {
                FileChannel channel = FileChannel.open(real, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
                state = new State(real, channel);
                STATES.put(real, state);
            }
            return new GcLock(state);
        }
    }

    /**
     * Holds the lock shared, waiting while a collector (of this or another process) holds it.
     *
     * @return the hold, to be closed when done
     * @throws InterruptedIOException if the thread is interrupted while waiting
     * @throws IOException if the lock cannot be taken
     */
    public Held lockShared() throws IOException {
        synchronized (state) {
            while (state.exclusive) {
                state.await();
            }
            if (state.shared == 0) {
                state.osLock = PollingLocks.lock(state.channel, 0, Long.MAX_VALUE, true, state.file.toString());
            }
            state.shared++;
        }
        return new Held(state, false);
    }

    /**
     * Holds the lock exclusively, waiting while anyone (in this or another process) holds it.
     *
     * @return the hold, to be closed when done
     * @throws InterruptedIOException if the thread is interrupted while waiting
     * @throws IOException if the lock cannot be taken
     */
    public Held lockExclusive() throws IOException {
        synchronized (state) {
            while (state.exclusive || state.shared > 0) {
                state.await();
            }
            state.exclusive = true;
        }
        try {
            FileLock lock = PollingLocks.lock(state.channel, 0, Long.MAX_VALUE, false, state.file.toString());
            synchronized (state) {
                state.osLock = lock;
            }
        } catch (IOException | RuntimeException | Error e) {
            state.endExclusive();
            throw e;
        }
        return new Held(state, true);
    }

    /**
     * Holds the lock exclusively if nobody holds it, without waiting.
     *
     * @return the hold, or empty if it is held
     * @throws IOException if the lock cannot be tried
     */
    public Optional<Held> tryLockExclusive() throws IOException {
        synchronized (state) {
            if (state.exclusive || state.shared > 0) {
                return Optional.empty();
            }
            FileLock lock = PollingLocks.tryLock(state.channel, 0, Long.MAX_VALUE, false, state.file.toString());
            if (lock == null) {
                return Optional.empty();
            }
            state.exclusive = true;
            state.osLock = lock;
        }
        return Optional.of(new Held(state, true));
    }

    /** A hold on the lock, shared or exclusive. Closing twice does nothing; any thread may close it. */
    public static final class Held implements AutoCloseable {
        private final State state;
        private final boolean exclusive;
        private boolean closed;

        private Held(State state, boolean exclusive) {
            this.state = state;
            this.exclusive = exclusive;
        }

        /**
         * Whether this hold is exclusive.
         *
         * @return true for the collector's hold
         */
        public boolean exclusive() {
            return exclusive;
        }

        /**
         * Releases this hold (the OS lock too, if it was the last one of this JVM).
         *
         * @throws IOException if the OS lock cannot be released
         */
        @Override
        public void close() throws IOException {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            if (exclusive) {
                state.endExclusive();
            } else {
                state.endShared();
            }
        }
    }

    /** One gc.lock file as this JVM holds it. */
    private static final class State {
        final Path file;
        final FileChannel channel;
        int shared;
        boolean exclusive;
        FileLock osLock;

        State(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        void await() throws InterruptedIOException {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + file);
            }
        }

        synchronized void endShared() throws IOException {
            try {
                if (--shared == 0) {
                    FileLock lock = osLock;
                    osLock = null;
                    lock.release();
                }
            } finally {
                notifyAll();
            }
        }

        synchronized void endExclusive() throws IOException {
            try {
                FileLock lock = osLock;
                osLock = null;
                if (lock != null) {
                    lock.release();
                }
            } finally {
                exclusive = false;
                notifyAll();
            }
        }
    }
}
