package org.granary.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/**
 * Passes bytes on to another stream while hashing and counting them: the hash and size of what was
 * written, in the same pass (a NAR sent nowhere, a compressed file written to disk). Not thread-safe.
 */
public final class HashingOutputStream extends FilterOutputStream {
    private final HashAlgorithm algorithm;
    private final MessageDigest digest;
    private long count;

    /**
     * Creates the stream.
     *
     * @param out where the bytes go ({@link OutputStream#nullOutputStream()} to only hash them)
     * @param algorithm what to hash them with
     */
    public HashingOutputStream(OutputStream out, HashAlgorithm algorithm) {
        super(out);
        this.algorithm = algorithm;
        this.digest = algorithm.newDigest();
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        digest.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        digest.update(b, off, len);
        count += len;
    }

    /**
     * Returns how many bytes were written.
     *
     * @return the count
     */
    public long count() {
        return count;
    }

    /**
     * Returns the hash of the bytes written, and starts hashing anew.
     *
     * @return the hash
     */
    public Hash hash() {
        return Hash.of(algorithm, digest.digest());
    }
}
