package org.granary.nar;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;

/**
 * Where a {@link NarWriter} puts its bytes: a buffer that drains, when full and at the end of the NAR, to
 * a digest and to an output (a stream or a channel; either may be absent) and counts what went through.
 * File contents can be read from a channel straight into the buffer, so that a dump copies each byte once
 * on its way to the digest; with a digest, the hashing runs on a second thread (a {@link DigestPipeline})
 * once the NAR outgrows the first buffer; without a digest and with a channel output, file contents go
 * from file to output in the kernel ({@link FileChannel#transferTo}); with a digest alone and a direct
 * buffer, file contents are read into that buffer and hashed from it on this thread
 * ({@link MessageDigest#update(ByteBuffer)}), so that a digest able to read native memory hashes them
 * without any copy but the kernel's; a sink that {@link #copying copies} reads file contents into the
 * pipeline's direct buffers and lends each read to a copy before the buffer is hashed. Not thread-safe.
 */
final class NarSink {
    /** Room for an integer at any time (the only write not split across drains). */
    static final int MIN_BUFFER = 8;

    private byte[] buffer;
    private ByteBuffer view;
    private final OutputStream out;
    private final WritableByteChannel channel;
    private final MessageDigest digest;
    private final DigestPipeline pipeline;
    /** Where file contents go on their way to the digest, when it is the only destination; else null. */
    private final ByteBuffer direct;
    /**
     * For a sink that {@link #copying copies}: the pipeline's direct buffer being filled, which the framing
     * in {@code buffer} and the file contents read by {@link #readContents} go to in order; else null.
     */
    private ByteBuffer chunk;
    private int length;
    private long drained;

    /** {@code out} and {@code digest} may be null; {@code buffer} may be shared with earlier sinks. */
    NarSink(byte[] buffer, OutputStream out, MessageDigest digest) {
        this(buffer, out, null, digest, null);
    }

    /**
     * The general form: at most one of {@code out} and {@code channel}; {@code digest} may be null;
     * {@code pipeline}, if given, hashes on a second thread and must be {@link #finish finished}.
     */
    NarSink(byte[] buffer, OutputStream out, WritableByteChannel channel, MessageDigest digest,
            DigestPipeline pipeline) {
        this(buffer, out, channel, digest, pipeline, null);
    }

    /**
     * A sink that hashes on the calling thread only: the framing goes through {@code buffer}, file contents
     * through the {@code direct} buffer straight to {@code digest}.
     */
    NarSink(byte[] buffer, MessageDigest digest, ByteBuffer direct) {
        this(buffer, null, null, digest, null, direct);
    }

    /**
     * A sink for a copy of a tree that hashes its NAR on the way: the framing goes through {@code buffer},
     * then, with the file contents that {@link #readContents} reads, into the direct buffers of
     * {@code pipeline}, which hashes each one on its second thread once it is full, while the copy
     * writes the contents it was given from the same buffer. Each byte of contents is copied twice, by
     * the kernel both times: from the file into the buffer and from the buffer into the copy.
     */
    static NarSink copying(byte[] buffer, MessageDigest digest, DigestPipeline pipeline) throws IOException {
        NarSink sink = new NarSink(buffer, null, null, digest, pipeline, null);
        sink.chunk = pipeline.buffer();
        return sink;
    }

    private NarSink(byte[] buffer, OutputStream out, WritableByteChannel channel, MessageDigest digest,
            DigestPipeline pipeline, ByteBuffer direct) {
        if (buffer.length < MIN_BUFFER) {
            throw new IllegalArgumentException("buffer of " + buffer.length + " bytes, at least " + MIN_BUFFER + " needed");
        }
        this.buffer = buffer;
        this.view = ByteBuffer.wrap(buffer);
        this.out = out;
        this.channel = channel;
        this.digest = digest;
        this.pipeline = digest == null ? null : pipeline;
        this.direct = direct;
        if (this.pipeline != null) {
            this.pipeline.start(digest);
        }
    }

    void write(byte[] b, int off, int len) throws IOException {
        while (len > buffer.length - length) {
            int n = buffer.length - length;
            if (pipeline == null && length == 0) {
                emit(b, off, len); // nothing buffered and more than fits: no need to copy
                return;
            }
            System.arraycopy(b, off, buffer, length, n);
            length += n;
            off += n;
            len -= n;
            drain();
        }
        System.arraycopy(b, off, buffer, length, len);
        length += len;
    }

    void write(byte[] b) throws IOException {
        write(b, 0, b.length);
    }

    void write(int b) throws IOException {
        if (length == buffer.length) {
            drain();
        }
        buffer[length++] = (byte) b;
    }

    void writeLong(long value) throws IOException {
        if (buffer.length - length < 8) {
            drain();
        }
        NarGrammar.putLong(buffer, length, value);
        length += 8;
    }

    /**
     * Reads at most {@code max} bytes from {@code channel} into the free part of the buffer (draining it
     * first if it is full), and returns how many were read, or -1 at the end of the channel.
     */
    int readFrom(ReadableByteChannel source, long max) throws IOException {
        if (direct != null) {
            return hashFrom(source, max);
        }
        if (length == buffer.length) {
            drain();
        }
        view.limit((int) Math.min(buffer.length, length + max)).position(length);
        int n = source.read(view);
        if (n > 0) {
            length += n;
        }
        return n;
    }

    /**
     * For a sink that {@link #copying copies}: reads at most {@code max} bytes of file contents from
     * {@code source}, after the framing written so far, and returns them as a read-only view (for the
     * copy to write out) that stays valid until the next call on this sink; or null at the end of
     * {@code source}.
     */
    ByteBuffer readContents(ReadableByteChannel source, long max) throws IOException {
        drain();
        if (!chunk.hasRemaining()) {
            handOver();
        }
        int start = chunk.position();
        chunk.limit((int) Math.min(chunk.capacity(), start + max));
        int n;
        try {
            n = source.read(chunk);
        } finally {
            chunk.limit(chunk.capacity());
        }
        if (n < 0) {
            return null;
        }
        drained += n;
        return chunk.slice(start, n).asReadOnlyBuffer();
    }

    /** Hands the full chunk over to be hashed and takes an empty one. */
    private void handOver() throws IOException {
        chunk = pipeline.exchange(chunk.flip());
    }

    /** {@link #readFrom} with a direct buffer: the framing before goes to the digest first, in order. */
    private int hashFrom(ReadableByteChannel source, long max) throws IOException {
        drain();
        direct.clear().limit((int) Math.min(direct.capacity(), max));
        int n = source.read(direct);
        if (n > 0) {
            direct.flip();
            digest.update(direct);
            drained += n;
        }
        return n;
    }

    /** Whether file contents may skip the buffer: no digest to feed, and a channel to send them to. */
    boolean canTransfer() {
        return digest == null && channel != null;
    }

    /**
     * Sends at most {@code max} bytes of {@code file}, from {@code position}, to the output channel in the
     * kernel, after what is buffered; returns how many were sent. Only when {@link #canTransfer()}.
     */
    long transferFrom(FileChannel file, long position, long max) throws IOException {
        drain();
        long n = file.transferTo(position, max, channel);
        drained += n;
        return n;
    }

    /** Hands the buffered bytes on to the digest and the output. */
    void drain() throws IOException {
        if (length > 0) {
            emit(buffer, 0, length);
            length = 0;
        }
    }

    /**
     * Drains what is left and, with a pipeline, waits until all is hashed: the digest is then complete.
     * After an exception from the NAR's writing, call {@link #abort()} instead.
     */
    void finish() throws IOException {
        if (chunk != null) {
            drain();
            pipeline.finish(chunk.flip());
            chunk = null;
        } else if (pipeline != null && pipeline.running()) {
            writeOut(buffer, 0, length);
            drained += length;
            pipeline.finish(buffer, length);
            length = 0;
        } else {
            drain();
        }
    }

    /** Stops the hashing thread, if any, after a failure. */
    void abort() {
        chunk = null; // the pipeline takes its buffers back
        if (pipeline != null) {
            pipeline.abort();
        }
    }

    /** The number of bytes written so far, drained or not. */
    long size() {
        return drained + length;
    }

    private void emit(byte[] b, int off, int len) throws IOException {
        writeOut(b, off, len);
        drained += len;
        if (chunk != null) {
            while (len > 0) {
                if (!chunk.hasRemaining()) {
                    handOver();
                }
                int n = Math.min(len, chunk.remaining());
                chunk.put(b, off, n);
                off += n;
                len -= n;
            }
            return;
        }
        // With a pipeline only our own buffer reaches here (see write). The hashing thread starts with the
        // first full buffer, so a NAR that fits in one is hashed here, without a thread.
        if (pipeline != null && (pipeline.running() || len == buffer.length)) {
            buffer = pipeline.exchange(b, len);
            view = ByteBuffer.wrap(buffer);
        } else if (digest != null) {
            digest.update(b, off, len);
        }
    }

    private void writeOut(byte[] b, int off, int len) throws IOException {
        if (out != null) {
            out.write(b, off, len);
        } else if (channel != null) {
            ByteBuffer bytes = ByteBuffer.wrap(b, off, len);
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }
    }
}
