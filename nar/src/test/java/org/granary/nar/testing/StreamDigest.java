package org.granary.nar.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 (lower-case base16) and the size of a byte stream: enough to tell two NARs apart without
 * holding either. Immutable and thread-safe.
 */
public record StreamDigest(String sha256, long size) {

    /** Reads {@code in} to its end (without closing it) and digests what it read. */
    public static StreamDigest of(InputStream in) throws IOException {
        MessageDigest sha256 = newSha256();
        long size = new DigestInputStream(in, sha256).transferTo(OutputStream.nullOutputStream());
        return new StreamDigest(HexFormat.of().formatHex(sha256.digest()), size);
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java platform has SHA-256", e);
        }
    }
}
