package org.granary.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hash algorithms Guix and Nix name store items with, under the names they print.
 *
 * <p>Immutable; safe to share between threads.
 */
public enum HashAlgorithm {
    /** MD5, 16 bytes. */
    MD5("md5", 16, "MD5"),
    /** SHA-1, 20 bytes. */
    SHA1("sha1", 20, "SHA-1"),
    /** SHA-256, 32 bytes: the hash of store paths and of the database. */
    SHA256("sha256", 32, "SHA-256"),
    /** SHA-512, 64 bytes. */
    SHA512("sha512", 64, "SHA-512");

    private final String nixName;
    private final int size;
    private final String jdkName;

    HashAlgorithm(String nixName, int size, String jdkName) {
        this.nixName = nixName;
        this.size = size;
        this.jdkName = jdkName;
    }

    /**
     * Returns the name Guix and Nix use, as in {@code sha256:…} and {@code --type sha256}.
     *
     * @return {@code "md5"}, {@code "sha1"}, {@code "sha256"} or {@code "sha512"}
     */
    public String nixName() {
        return nixName;
    }

    /**
     * Returns the length of a digest.
     *
     * @return the digest length in bytes
     */
    public int size() {
        return size;
    }

    /**
     * Creates a digest of this algorithm: OpenSSL's where Granary's native library loads (faster, see
     * {@code OpenSslDigest}), else the JDK's; both give the same bytes. The result is not thread-safe; the
     * call is.
     *
     * @return a new, reset digest
     */
    public MessageDigest newDigest() {
        if (OpenSslDigest.available()) {
            return new OpenSslDigest(this);
        }
        return newJdkDigest();
    }

    /** The JDK's digest of this algorithm. */
    MessageDigest newJdkDigest() {
        try {
            return MessageDigest.getInstance(jdkName);
        } catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide all four (MessageDigest's specification).
            throw new IllegalStateException(jdkName + " is missing from this JVM", e);
        }
    }

    /** The JDK's name of the algorithm, as {@link MessageDigest#getAlgorithm()} gives it. */
    String jdkName() {
        return jdkName;
    }

    /**
     * Parses an algorithm by its exact Guix name, as Guix's {@code parseHashType} does (case matters).
     *
     * @param name {@code "md5"}, {@code "sha1"}, {@code "sha256"} or {@code "sha512"}
     * @return the algorithm
     * @throws InvalidHashException if {@code name} is none of them
     */
    public static HashAlgorithm parse(String name) {
        for (HashAlgorithm algorithm : values()) {
            if (algorithm.nixName.equals(name)) {
                return algorithm;
            }
        }
        throw new InvalidHashException(
            "unknown hash algorithm \"" + name + "\" (expected md5, sha1, sha256 or sha512)");
    }

    /**
     * Returns {@link #nixName()}.
     *
     * @return the Guix name
     */
    @Override
    public String toString() {
        return nixName;
    }
}
