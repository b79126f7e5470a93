package org.granary.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

/**
 * Waits for a POSIX lock by polling {@link FileChannel#tryLock}. A thread interrupted while blocked in
 * {@link FileChannel#lock} closes the channel, and closing any descriptor of a file drops every POSIX lock
 * the process holds on it: for a channel shared by several holders (gc.lock, a temporary-roots file) that
 * would silently free their locks. Polling checks for interruption between attempts, which shrinks that
 * window to the microseconds of one non-blocking {@code fcntl}.
 *
 * <p>Stateless; safe to use from any thread.
 */
final class PollingLocks {
    private static final long FIRST_PAUSE_MILLIS = 1;
    private static final long LONGEST_PAUSE_MILLIS = 50;

    private PollingLocks() {}

    /** Locks {@code [position, position + size)} of {@code channel}, waiting as long as it takes. */
    static FileLock lock(FileChannel channel, long position, long size, boolean shared, String what)
            throws IOException {
        long pause = FIRST_PAUSE_MILLIS;
        while (true) {
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + what);
            }
            FileLock lock = channel.tryLock(position, size, shared);
            if (lock != null) {
                return lock;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + what);
            }
            pause = Math.min(LONGEST_PAUSE_MILLIS, pause * 2);
        }
    }

    /** Tries to lock {@code [position, position + size)} of {@code channel} once; null if held elsewhere. */
    static FileLock tryLock(FileChannel channel, long position, long size, boolean shared, String what)
            throws IOException {
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted before trying " + what);
        }
        return channel.tryLock(position, size, shared);
    }
}
