package org.granary.nar;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.security.MessageDigest;

/**
 * Where a {@link NarWriter} puts its bytes: a buffer that drains, when full and at the end of the NAR, to
 * a digest and to an output stream (either may be absent) and counts what went through. File contents
 * can be read from a channel straight into the buffer, so that a dump copies each byte once on its way
 * to the digest. Not thread-safe.
 */
final class NarSink {
    /** Room for an integer at any time (the only write not split across drains). */
    static final int MIN_BUFFER = 8;

    private final byte[] buffer;
    private final ByteBuffer view;
    private final OutputStream out;
    private final MessageDigest digest;
    private int length;
    private long drained;

    /** {@code out} and {@code digest} may be null; {@code buffer} may be shared with earlier sinks. */
    NarSink(byte[] buffer, OutputStream out, MessageDigest digest) {
        if (buffer.length < MIN_BUFFER) {
            throw new IllegalArgumentException("buffer of " + buffer.length + " bytes, at least " + MIN_BUFFER + " needed");
        }
        this.buffer = buffer;
        this.view = ByteBuffer.wrap(buffer);
        this.out = out;
        this.digest = digest;
    }

    void write(byte[] b, int off, int len) throws IOException {
        if (len > buffer.length - length) {
            drain();
            if (len >= buffer.length) {
                emit(b, off, len);
                return;
            }
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
    int readFrom(ReadableByteChannel channel, long max) throws IOException {
        if (length == buffer.length) {
            drain();
        }
        view.limit((int) Math.min(buffer.length, length + max)).position(length);
        int n = channel.read(view);
        if (n > 0) {
            length += n;
        }
        return n;
    }

    /** Hands the buffered bytes on to the digest and the stream. */
    void drain() throws IOException {
        if (length > 0) {
            emit(buffer, 0, length);
            length = 0;
        }
    }

    /** The number of bytes written so far, drained or not. */
    long size() {
        return drained + length;
    }

    private void emit(byte[] b, int off, int len) throws IOException {
        if (digest != null) {
            digest.update(b, off, len);
        }
        if (out != null) {
            out.write(b, off, len);
        }
        drained += len;
    }
}
