package org.granary.verify.cache;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import org.granary.store.Hash;

/**
 * Passes bytes through while counting and hashing them, and compares with the expected size and hash
 * at the end: when the expected size is reached (the stream below must then be at its end, which makes
 * a decompressor check its own trailer) or, without an expected size, at the end of the stream. A
 * reader that stops at the last byte it needs (a NAR parser) is thus checked too. Errors of the stream
 * below are rethrown naming the file. Not thread-safe.
 */
final class CheckingInputStream extends FilterInputStream {
    private final Hash expectedHash;
    private final long expectedSize;
    private final MessageDigest digest;
    private final String source;
    private final String hashField;
    private final String sizeField;
    private final InputStream tail;
    private long count;
    private boolean checked;

    /**
     * Wraps a stream.
     *
     * @param in the bytes to check
     * @param expectedHash their hash, or null if none is given
     * @param expectedSize their length, or -1 if none is given
     * @param source the file's URL, for messages
     * @param hashField the narinfo field the hash comes from, such as {@code NarHash}
     * @param sizeField the narinfo field the size comes from, such as {@code NarSize}
     * @param tail a stream read to its end once these bytes are checked (the compressed file under a
     *     decompressor, so that its own check runs), or null
     */
    CheckingInputStream(InputStream in, Hash expectedHash, long expectedSize, String source, String hashField,
            String sizeField, InputStream tail) {
        super(in);
        this.expectedHash = expectedHash;
        this.expectedSize = expectedSize;
        this.digest = expectedHash == null ? null : expectedHash.algorithm().newDigest();
        this.source = source;
        this.hashField = hashField;
        this.sizeField = sizeField;
        this.tail = tail;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (checked) {
            return -1;
        }
        int n = readBelow(buffer, offset, length);
        if (n < 0) {
            check();
            return n;
        }
        count += n;
        if (expectedSize >= 0 && count > expectedSize) {
            throw tooLong();
        }
        if (digest != null) {
            digest.update(buffer, offset, n);
        }
        if (count == expectedSize) {
            if (readBelow(new byte[1], 0, 1) >= 0) {
                throw tooLong();
            }
            check();
        }
        return n;
    }

    private int readBelow(byte[] buffer, int offset, int length) throws IOException {
        try {
            return in.read(buffer, offset, length);
        } catch (ContentMismatchException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    private ContentMismatchException tooLong() {
        return new ContentMismatchException(source, sizeField, Long.toString(expectedSize),
            "more than " + expectedSize + " bytes");
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must be counted and hashed too: read them.
        byte[] buffer = new byte[(int) Math.min(Math.max(n, 1), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void check() throws IOException {
        if (checked) {
            return;
        }
        checked = true;
        if (expectedSize >= 0 && count != expectedSize) {
            throw new ContentMismatchException(source, sizeField, Long.toString(expectedSize), count + " bytes");
        }
        if (digest != null) {
            Hash actual = Hash.of(expectedHash.algorithm(), digest.digest());
            if (!actual.equals(expectedHash)) {
                throw new ContentMismatchException(source, hashField, NarInfo.typed(expectedHash),
                    NarInfo.typed(actual));
            }
        }
        if (tail != null) {
            tail.transferTo(OutputStream.nullOutputStream());
        }
    }
}
