package org.granary.nar;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Hashes full buffers on a second thread while the caller fills the next ones, so that walking and
 * reading a tree overlaps with SHA-256, the one part that cannot be split. Measured on a fresh JVM over a
 * 1 GB tree: reading is about a fifth of the work, and it disappears behind the hashing.
 *
 * <p>The caller {@link #exchange exchanges} a full buffer for an empty one; the hashing thread starts at
 * the first exchange, so a NAR that fits in the caller's first buffer never starts it. {@link #finish}
 * takes the last buffer and waits until everything handed over is hashed; {@link #abort} stops without
 * waiting. Either way no buffer is in use afterwards. The pipeline's own buffers ({@value #BUFFERS} of
 * {@value #BUFFER_SIZE} bytes) are allocated on demand and kept for the next NAR; a buffer of the
 * caller's is hashed and then left alone.
 *
 * <p>Not thread-safe: one caller thread uses a pipeline, for one NAR at a time.
 */
final class DigestPipeline {
    /**
     * Large hand-overs, since each one may park and wake a thread. 8 × 512 KiB did as well as 4 × 1 MiB
     * on a 1 GB tree and better than 4 × 128 KiB (0.93-0.99 s, 0.96-0.98 s, 1.0 s in a fresh JVM).
     */
    static final int BUFFER_SIZE = 1 << 19;
    /** Enough for the reader to run ahead over a run of small files. */
    static final int BUFFERS = 8;

    /** Marks the end of the data in the queue. */
    private static final Chunk END = new Chunk(new byte[0], 0);

    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    /** The pipeline's own buffers, told apart from the caller's by identity. */
    private final byte[][] own = new byte[BUFFERS][];
    private int allocated;

    private MessageDigest digest;
    private BlockingQueue<Chunk> full;
    private Thread worker;
    private volatile Throwable failure;

    /** A buffer and how much of it holds data. */
    private record Chunk(byte[] buffer, int length) {}

    /** Prepares for one NAR whose bytes go to {@code digest}; nothing runs until the first exchange. */
    void start(MessageDigest digest) {
        this.digest = digest;
        this.failure = null;
    }

    /** Whether the hashing thread runs, so that bytes must go through {@link #exchange}. */
    boolean running() {
        return worker != null;
    }

    /**
     * Hands {@code buffer}'s first {@code length} bytes over to be hashed (the caller must not touch
     * {@code buffer} again) and returns an empty buffer of {@value #BUFFER_SIZE} bytes.
     */
    byte[] exchange(byte[] buffer, int length) throws IOException {
        if (worker == null) {
            full = new ArrayBlockingQueue<>(BUFFERS + 1);
            worker = new Thread(this::hashAll, "granary-nar-digest");
            worker.setDaemon(true);
            worker.start();
        }
        put(new Chunk(buffer, length));
        byte[] next = free.poll();
        if (next == null && allocated < BUFFERS) {
            next = new byte[BUFFER_SIZE];
            own[allocated++] = next;
            return next;
        }
        try {
            while (next == null) {
                checkFailure();
                next = free.poll(10, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            abort();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing a NAR");
        }
        return next;
    }

    /**
     * Hands over the last {@code length} bytes of {@code buffer} and waits until every byte is hashed; the
     * digest then holds them all. Only while {@link #running()}.
     */
    void finish(byte[] buffer, int length) throws IOException {
        put(new Chunk(buffer, length));
        put(END);
        try {
            worker.join();
        } catch (InterruptedException e) {
            abort();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing a NAR");
        } finally {
            worker = null;
        }
        checkFailure();
    }

    /**
     * Stops the hashing thread without waiting for the data, and gathers every buffer back; the digest's
     * state is then undefined.
     */
    void abort() {
        Thread running = worker;
        if (running == null) {
            return;
        }
        worker = null;
        running.interrupt();
        boolean interrupted = false;
        while (running.isAlive()) {
            try {
                running.join();
            } catch (InterruptedException e) {
                interrupted = true; // the thread must be gone before its buffers are reused
            }
        }
        free.clear();
        for (int i = 0; i < allocated; i++) {
            free.add(own[i]);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void put(Chunk chunk) throws IOException {
        try {
            full.put(chunk); // blocks only while the hashing thread is behind by a whole queue
        } catch (InterruptedException e) {
            abort();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing a NAR");
        }
    }

    private void checkFailure() throws IOException {
        Throwable t = failure;
        if (t != null) {
            throw new IOException("hashing the NAR failed: " + t, t);
        }
    }

    /**
     * Called by the hashing thread: a buffer's allocation happened before it was handed over, through the
     * queue, so its entry in {@code own} is visible here; entries added since may or may not be.
     */
    private boolean isOwn(byte[] buffer) {
        for (int i = 0; i < allocated; i++) {
            if (own[i] == buffer) {
                return true;
            }
        }
        return false;
    }

    /** The hashing thread: hashes chunks in order until END, recycling the pipeline's own buffers. */
    private void hashAll() {
        try {
            for (Chunk chunk = full.take(); chunk != END; chunk = full.take()) {
                digest.update(chunk.buffer, 0, chunk.length);
                if (isOwn(chunk.buffer)) {
                    free.add(chunk.buffer);
                }
            }
        } catch (InterruptedException e) {
            // aborted: the caller no longer wants the digest
        } catch (RuntimeException | Error e) {
            failure = e;
        }
    }
}
