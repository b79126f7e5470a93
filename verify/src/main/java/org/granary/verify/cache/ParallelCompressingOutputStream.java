package org.granary.verify.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Compresses on several cores at once, as {@code xz -T} and {@code plzip} do: the input is cut into chunks,
 * each chunk becomes a whole compressed stream (an xz stream, an lzip member) of its own on a worker
 * thread, and the streams are written in order, one after the other. Formats whose decoders read
 * concatenated streams as one (xz, lzip: Nix's liblzma with {@code LZMA_CONCATENATED}, {@code xz -d},
 * lzlib and {@code lzip -d}, and Granary's own decoders) accept the result; a chunk of 24 MiB, three
 * times the dictionary of preset 6, costs next to nothing in size, as for {@code xz -T}.
 *
 * <p>Memory is bounded: at most {@code threads} chunks are being compressed and one is being filled, and
 * the caller waits for the oldest when all are taken. An input of no bytes still gives one stream, so
 * that the file is never empty. Closing finishes every chunk and closes the underlying stream; a failure
 * of any chunk is thrown by the next write or by {@link #close()}. Not thread-safe.
 */
final class ParallelCompressingOutputStream extends OutputStream {
    /** The encoder of one chunk: wraps a stream, and finishes its compressed stream when closed. */
    @FunctionalInterface
    interface Encoder {
        OutputStream wrap(OutputStream out) throws IOException;
    }

    /** Bytes per chunk: three times the 8 MiB dictionary of xz's and lzip's preset 6, as {@code xz -T}. */
    static final int CHUNK = 24 << 20;

    private final OutputStream out;
    private final Encoder encoder;
    private final int chunkSize;
    private final int threads;
    private final ExecutorService pool;
    /** The chunks being compressed, oldest first. */
    private final ArrayDeque<Compressing> pending = new ArrayDeque<>();
    /** Chunk buffers whose compression is done, for the next chunks: the heap does not grow with the input. */
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
    private byte[] chunk;
    private int filled;
    private boolean any;
    private boolean closed;

    /**
     * Compresses into {@code out} with one worker per core, at most four.
     *
     * @param out where the compressed streams go, in order
     * @param encoder the encoder of one chunk
     */
    ParallelCompressingOutputStream(OutputStream out, Encoder encoder) {
        this(out, encoder, CHUNK, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /** With a chunk size and a number of threads of the caller's (tests reach several chunks with small ones). */
    ParallelCompressingOutputStream(OutputStream out, Encoder encoder, int chunkSize, int threads) {
        this.out = out;
        this.encoder = encoder;
        this.chunkSize = chunkSize;
        this.threads = Math.max(1, threads);
        this.pool = Executors.newFixedThreadPool(this.threads, task -> {
            Thread thread = new Thread(task, "granary-compress");
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        while (len > 0) {
            if (chunk == null) {
                chunk = spare.isEmpty() ? new byte[chunkSize] : spare.pop();
                filled = 0;
            }
            int n = Math.min(len, chunkSize - filled);
            System.arraycopy(b, off, chunk, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == chunkSize) {
                submit();
            }
        }
    }

    /** A chunk's input and its compressed bytes to come. */
    private record Compressing(byte[] input, Future<byte[]> compressed) {
    }

    /** Hands the chunk being filled to a worker, first writing out the oldest while all are busy. */
    private void submit() throws IOException {
        while (pending.size() >= threads) {
            writeOldest();
        }
        byte[] data = chunk;
        int length = filled;
        chunk = null;
        any = true;
        pending.addLast(new Compressing(data, pool.submit(() -> {
            ByteArrayOutputStream compressed = new ByteArrayOutputStream(length / 2 + 64);
            try (OutputStream encoding = encoder.wrap(compressed)) {
                encoding.write(data, 0, length);
            }
            return compressed.toByteArray();
        })));
    }

    /** Waits for the oldest chunk, writes it out and keeps its buffer for a next chunk. */
    private void writeOldest() throws IOException {
        Compressing oldest = pending.removeFirst();
        out.write(await(oldest.compressed()));
        if (oldest.input().length == chunkSize) {
            spare.push(oldest.input());
        }
    }

    private byte[] await(Future<byte[]> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IOException("compressing failed", cause);
        }
    }

    /** Compresses what is left, writes every chunk out in order and closes the underlying stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            if (chunk != null && filled > 0 || !any) {
                if (chunk == null) {
                    chunk = new byte[0];
                    filled = 0;
                }
                submit();
            }
            while (!pending.isEmpty()) {
                writeOldest();
            }
        } finally {
            pending.forEach(compressing -> compressing.compressed().cancel(true));
            pool.shutdownNow();
        }
    }
}
