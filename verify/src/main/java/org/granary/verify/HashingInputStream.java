package org.granary.verify;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;

/**
 * Hashes with SHA-256 and counts every byte read through it, skipped ones included (they are read, not
 * skipped), so that a restored NAR's hash and size are those of exactly the bytes the restorer consumed.
 * Not thread-safe.
 */
final class HashingInputStream extends FilterInputStream {
    private final MessageDigest digest = HashAlgorithm.SHA256.newDigest();
    private long count;

    HashingInputStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            digest.update((byte) b);
            count++;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            digest.update(b, off, n);
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        int read = read(buffer, 0, buffer.length);
        return Math.max(read, 0);
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** The SHA-256 of the bytes read so far (once: the digest is reset). */
    Hash sha256() {
        return Hash.of(HashAlgorithm.SHA256, digest.digest());
    }

    /** How many bytes were read. */
    long count() {
        return count;
    }
}
