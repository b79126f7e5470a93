package org.granary.nar;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The hash of a NAR and its size in bytes, computed in one pass by {@link NarDumper}. A value:
 * equality compares the algorithm, the digest bytes and the size; the digest array is copied in and out,
 * so an instance is immutable and safe to share between threads.
 *
 * @param algorithm the {@link java.security.MessageDigest} algorithm name, for example {@code SHA-256}
 * @param digest the hash of the NAR's bytes
 * @param narSize the NAR's length in bytes
 */
public record NarDigest(String algorithm, byte[] digest, long narSize) {

    /**
     * @param algorithm the digest algorithm's name
     * @param digest the hash bytes, copied
     * @param narSize the NAR's length in bytes
     * @throws NullPointerException if {@code algorithm} or {@code digest} is null
     * @throws IllegalArgumentException if {@code narSize} is negative
     */
    public NarDigest {
        Objects.requireNonNull(algorithm, "algorithm");
        digest = digest.clone();
        if (narSize < 0) {
            throw new IllegalArgumentException("negative NAR size " + narSize);
        }
    }

    /** {@return a copy of the hash bytes} */
    @Override
    public byte[] digest() {
        return digest.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NarDigest d
                && algorithm.equals(d.algorithm) && Arrays.equals(digest, d.digest) && narSize == d.narSize;
    }

    @Override
    public int hashCode() {
        return (algorithm.hashCode() * 31 + Arrays.hashCode(digest)) * 31 + Long.hashCode(narSize);
    }

    /** {@code SHA-256:<hex> (<narSize> bytes)}. */
    @Override
    public String toString() {
        return algorithm + ":" + HexFormat.of().formatHex(digest) + " (" + narSize + " bytes)";
    }
}
