package org.granary.nar;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
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
 * {@value #BUFFER_SIZE} bytes on the heap or, for a {@linkplain #DigestPipeline(boolean, int) direct}
 * pipeline, as many as it is given in native memory) are allocated on demand and kept for the next NAR; a
 * buffer of the caller's is hashed and then left alone.
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
    /**
     * For a copy ({@link NarDumper#mirror}): 16 MiB. Writing the copy is slow where the files are small and
     * fast where they are large, so the hashing thread starved on the small ones while the copy, ahead by
     * only 4 MiB, waited for buffers on the large ones. Measured with granary add of a 587 MB tree on 2
     * cores, eight runs each: 0.85-0.96 s (mean 0.88) against 0.89-0.95 s (mean 0.92) with 8 buffers, for
     * 12 MB more at the peak (81 MB); 64 buffers did no better.
     */
    static final int COPY_BUFFERS = 32;

    /** Marks the end of the data in the queue. */
    private static final Chunk END = new Chunk(ByteBuffer.allocate(0), null);

    private final boolean direct;
    /** How many buffers of its own the pipeline may have. */
    private final int buffers;
    private final BlockingQueue<ByteBuffer> free;
    /** The pipeline's own buffers, told apart from the caller's by identity (of the array, for heap ones). */
    private final List<ByteBuffer> own;

    private MessageDigest digest;
    private BlockingQueue<Chunk> full;
    private Thread worker;
    private volatile Throwable failure;

    /**
     * Bytes to hash, and the pipeline's buffer that holds them (to be reused once they are hashed), or
     * null for a buffer of the caller's.
     */
    private record Chunk(ByteBuffer data, ByteBuffer owner) {}

    /** A pipeline whose own buffers ({@value #BUFFERS}) are on the heap. */
    DigestPipeline() {
        this(false, BUFFERS);
    }

    /**
     * A pipeline whose own buffers are direct ({@code direct}) or on the heap. Direct buffers take file
     * contents from the kernel and give them back to it (to a copy) without a copy through the JDK's
     * temporary buffers, and a digest that reads native memory hashes them where they lie. At most
     * {@code buffers} of them.
     */
    DigestPipeline(boolean direct, int buffers) {
        this.direct = direct;
        this.buffers = buffers;
        this.free = new ArrayBlockingQueue<>(buffers);
        this.own = new ArrayList<>(buffers);
    }

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
     * An empty buffer of the pipeline's own, cleared, for a caller that fills the pipeline's buffers only;
     * waits for one if all are in use.
     */
    ByteBuffer buffer() throws IOException {
        ByteBuffer next = free.poll();
        if (next == null && own.size() < buffers) {
            next = direct ? ByteBuffer.allocateDirect(BUFFER_SIZE) : ByteBuffer.allocate(BUFFER_SIZE);
            own.add(next);
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
        return next.clear();
    }

    /**
     * Hands {@code buffer}'s first {@code length} bytes over to be hashed (the caller must not touch
     * {@code buffer} again) and returns an empty heap buffer of {@value #BUFFER_SIZE} bytes.
     */
    byte[] exchange(byte[] buffer, int length) throws IOException {
        return exchange(ByteBuffer.wrap(buffer, 0, length)).array();
    }

    /**
     * Hands the bytes between {@code data}'s position and limit over to be hashed (the caller must not
     * touch them, nor the buffer if it is the pipeline's own, again) and returns an empty buffer of the
     * pipeline's, cleared.
     */
    ByteBuffer exchange(ByteBuffer data) throws IOException {
        if (worker == null) {
            full = new ArrayBlockingQueue<>(buffers + 1);
            worker = new Thread(this::hashAll, "granary-nar-digest");
            worker.setDaemon(true);
            worker.start();
        }
        put(new Chunk(data, ownerOf(data)));
        return buffer();
    }

    /**
     * Hands over the last bytes, between {@code data}'s position and limit, and waits until every byte is
     * hashed; the digest then holds them all. If the hashing thread never started, hashes them on this
     * thread.
     */
    void finish(ByteBuffer data) throws IOException {
        ByteBuffer owner = ownerOf(data);
        if (worker == null) {
            digest.update(data);
            if (owner != null) {
                free.add(owner);
            }
            return;
        }
        put(new Chunk(data, owner));
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

    /** As {@link #finish(ByteBuffer)}, for the first {@code length} bytes of a heap buffer. */
    void finish(byte[] buffer, int length) throws IOException {
        finish(ByteBuffer.wrap(buffer, 0, length));
    }

    /**
     * Stops the hashing thread without waiting for the data, and gathers every buffer back; the digest's
     * state is then undefined.
     */
    void abort() {
        Thread running = worker;
        if (running == null) {
            gather();
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
        gather();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Makes every own buffer free again: none is in use once no thread hashes. */
    private void gather() {
        free.clear();
        free.addAll(own);
    }

    /** The pipeline's buffer that holds {@code data}, or null; on the caller's thread, which sees all of {@code own}. */
    private ByteBuffer ownerOf(ByteBuffer data) {
        for (ByteBuffer buffer : own) {
            if (buffer == data || !direct && data.hasArray() && buffer.array() == data.array()) {
                return buffer;
            }
        }
        return null;
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

    /** The hashing thread: hashes chunks in order until END, recycling the pipeline's own buffers. */
    private void hashAll() {
        try {
            for (Chunk chunk = full.take(); chunk != END; chunk = full.take()) {
                digest.update(chunk.data);
                if (chunk.owner != null) {
                    free.add(chunk.owner);
                }
            }
        } catch (InterruptedException e) {
            // aborted: the caller no longer wants the digest
        } catch (RuntimeException | Error e) {
            failure = e;
        }
    }
}
