package org.granary.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.granary.nar.NarDumper;

/**
 * A hash value: an algorithm and its digest bytes, as Guix stores and prints them.
 *
 * <p>Text forms ({@link HashFormat}): base16, nix-base32 and base64, bare or after {@code <algorithm>:},
 * and SRI ({@code <algorithm>-<base64>}). {@link #toString()} gives the database form
 * {@code sha256:<base16>}. Parsing is strict: every accepted text is the one {@link #format} would print
 * for its format, except that base16 may be upper case.
 *
 * <p>Immutable (the bytes are copied in and out); safe to share between threads.
 */
public final class Hash {
    private static final HexFormat HEX = HexFormat.of();
    /** Reading unit for {@link #ofFile}: large enough that the digest, not the calls, sets the pace. */
    private static final int BUFFER_SIZE = 64 * 1024;

    private final HashAlgorithm algorithm;
    private final byte[] bytes;

    private Hash(HashAlgorithm algorithm, byte[] bytes) {
        this.algorithm = algorithm;
        this.bytes = bytes;
    }

    /**
     * Creates a hash from its digest bytes.
     *
     * @param algorithm the algorithm that produced them
     * @param bytes exactly {@code algorithm.size()} bytes (copied)
     * @return the hash
     * @throws IllegalArgumentException if the length is not the algorithm's
     */
    public static Hash of(HashAlgorithm algorithm, byte[] bytes) {
        if (bytes.length != algorithm.size()) {
            throw new IllegalArgumentException("a " + algorithm + " hash has " + algorithm.size()
                + " bytes, not " + bytes.length);
        }
        return new Hash(algorithm, bytes.clone());
    }

    /**
     * Hashes the contents of a file ("flat", as {@code nix-hash --flat}). A symlink is followed.
     *
     * @param file the file to read
     * @param algorithm the algorithm
     * @return the hash of its bytes
     * @throws IOException if the file cannot be read (a directory, for one)
     */
    public static Hash ofFile(Path file, HashAlgorithm algorithm) throws IOException {
        MessageDigest digest = algorithm.newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[BUFFER_SIZE];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
            }
        } catch (FileSystemException e) {
            throw e; // names the file already
        } catch (IOException e) {
            // A read error (EISDIR for a directory, EIO) comes without the file's name.
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return new Hash(algorithm, digest.digest());
    }

    /**
     * Hashes the NAR serialisation of a file tree ("recursive", as {@code nix-hash} without
     * {@code --flat}); symlinks inside and at the top are archived, never followed.
     *
     * @param root a directory, regular file or symlink
     * @param algorithm the algorithm
     * @return the hash of the NAR
     * @throws IOException if the tree cannot be read or archived (see {@link NarDumper})
     */
    public static Hash ofNar(Path root, HashAlgorithm algorithm) throws IOException {
        return new Hash(algorithm, new NarDumper().digest(root, algorithm.newDigest()).digest());
    }

    /**
     * Hashes the NAR serialisation of a file tree as {@link #ofNar} does, all on the calling thread: for
     * callers that hash several trees at once, one per core, where {@link #ofNar}'s second thread (reading
     * on one, hashing on the other) would only compete. SHA-256 is walked and hashed in C where the
     * {@link NativeNarHasher} is available (two trees on two cores, /usr/lib/jvm and /usr/share: 0.89 s
     * against 1.11 s through Java, whose file API costs dearly over 53,000 small files); whatever it gives
     * up on, and the other algorithms, go through {@link NarDumper#digestInline}, whose errors name the
     * file.
     *
     * @param root a directory, regular file or symlink
     * @param algorithm the algorithm
     * @return the hash of the NAR
     * @throws IOException if the tree cannot be read or archived (see {@link NarDumper})
     */
    public static Hash ofNarInline(Path root, HashAlgorithm algorithm) throws IOException {
        if (algorithm == HashAlgorithm.SHA256 && NativeNarHasher.available()) {
            try (NativeNarHasher hasher = new NativeNarHasher()) {
                hasher.start(0, root);
                hasher.run(Long.MAX_VALUE);
                NativeNarHasher.Outcome outcome = hasher.result(0);
                if (outcome.hashed()) {
                    return new Hash(algorithm, outcome.digest());
                }
            }
        }
        return new Hash(algorithm, new NarDumper().digestInline(root, algorithm.newDigest()).digest());
    }

    /**
     * Parses a hash that names its algorithm: {@code <algorithm>:<hash>} with the hash in base16 (either
     * case), nix-base32 or base64, told apart by length as Guix does, or SRI {@code <algorithm>-<base64>}.
     *
     * @param text such as {@code sha256:1c37d0…fc13}, {@code sha256:04zwf7…0dqw} or {@code sha256-HDfQ…BM=}
     * @return the hash
     * @throws InvalidHashException quoting {@code text}, if the algorithm is missing or unknown, the length
     *     fits no encoding, or a character or padding bit is invalid
     */
    public static Hash parse(String text) {
        int colon = text.indexOf(':');
        int separator = colon >= 0 ? colon : text.indexOf('-');
        if (separator < 0) {
            throw invalid(text, "no algorithm (expected <algorithm>:<hash> or <algorithm>-<base64>)");
        }
        HashAlgorithm algorithm;
        try {
            algorithm = HashAlgorithm.parse(text.substring(0, separator));
        } catch (InvalidHashException e) {
            throw invalid(text, e.getMessage(), e);
        }
        String body = text.substring(separator + 1);
        if (separator == colon) {
            return decodeByLength(text, body, algorithm);
        }
        if (body.length() != base64Length(algorithm)) {
            throw invalid(text, "an SRI " + algorithm + " hash has " + base64Length(algorithm)
                + " base64 characters, not " + body.length());
        }
        return new Hash(algorithm, decodeBase64(text, body, algorithm));
    }

    /**
     * Parses a hash of a known algorithm. A bare hash is told apart by its length as Guix does:
     * {@code 2 * size} characters are base16 (either case), {@link NixBase32#encodedLength} of the size are
     * nix-base32, and the padded base64 length is base64. A text with an algorithm ({@code sha256:…} or
     * SRI) is also accepted if that algorithm is {@code algorithm}.
     *
     * @param text the hash
     * @param algorithm its algorithm
     * @return the hash
     * @throws InvalidHashException quoting {@code text}, if its length fits no encoding, a character or
     *     padding bit is invalid, or it names another algorithm
     */
    public static Hash parse(String text, HashAlgorithm algorithm) {
        // None of the three bare encodings uses ':' or '-', so either one means an algorithm comes first.
        if (text.indexOf(':') >= 0 || text.indexOf('-') >= 0) {
            Hash hash = parse(text);
            if (hash.algorithm != algorithm) {
                throw invalid(text, "a " + hash.algorithm + " hash where " + algorithm + " was expected");
            }
            return hash;
        }
        return decodeByLength(text, text, algorithm);
    }

    /**
     * Returns the algorithm.
     *
     * @return the algorithm
     */
    public HashAlgorithm algorithm() {
        return algorithm;
    }

    /**
     * Returns the digest bytes.
     *
     * @return a copy of the {@code algorithm().size()} bytes
     */
    public byte[] bytes() {
        return bytes.clone();
    }

    /**
     * Prints the hash. {@code BASE16}, {@code BASE32} and {@code BASE64} give the bare encoding, as
     * {@code nix-hash} and {@code guix hash} print it (prefix {@code algorithm().nixName() + ":"} for the
     * typed form); {@code SRI} gives {@code <algorithm>-<base64>}.
     *
     * @param format the text form
     * @return the text; {@link #parse(String, HashAlgorithm)} turns it back into this hash
     */
    public String format(HashFormat format) {
        return switch (format) {
            case BASE16 -> HEX.formatHex(bytes);
            case BASE32 -> NixBase32.encode(bytes);
            case BASE64 -> Base64.getEncoder().encodeToString(bytes);
            case SRI -> algorithm.nixName() + "-" + Base64.getEncoder().encodeToString(bytes);
        };
    }

    /**
     * Returns the form the database and {@code .narinfo} references use: {@code <algorithm>:<base16>}.
     *
     * @return such as {@code sha256:1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13}
     */
    @Override
    public String toString() {
        return algorithm.nixName() + ":" + format(HashFormat.BASE16);
    }

    /**
     * Two hashes are equal if they have the same algorithm and bytes.
     *
     * @param other any object
     * @return whether it is an equal hash
     */
    @Override
    public boolean equals(Object other) {
        return other instanceof Hash
            && ((Hash) other).algorithm == algorithm
            && Arrays.equals(((Hash) other).bytes, bytes);
    }

    /**
     * Returns a hash code consistent with {@link #equals(Object)}.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return 31 * algorithm.ordinal() + Arrays.hashCode(bytes);
    }

    private static Hash decodeByLength(String text, String body, HashAlgorithm algorithm) {
        int length = body.length();
        byte[] bytes;
        if (length == 2 * algorithm.size()) {
            bytes = decodeBase16(text, body);
        } else if (length == NixBase32.encodedLength(algorithm.size())) {
            try {
                bytes = NixBase32.decode(body);
            } catch (IllegalArgumentException e) {
                throw invalid(text, e.getMessage(), e);
            }
        } else if (length == base64Length(algorithm)) {
            bytes = decodeBase64(text, body, algorithm);
        } else {
            throw invalid(text, length + " characters fit no encoding of a " + algorithm + " hash (base16 "
                + 2 * algorithm.size() + ", nix-base32 " + NixBase32.encodedLength(algorithm.size())
                + ", base64 " + base64Length(algorithm) + ")");
        }
        return new Hash(algorithm, bytes);
    }

    private static byte[] decodeBase16(String text, String body) {
        byte[] bytes = new byte[body.length() / 2];
        for (int i = 0; i < body.length(); i++) {
            int digit = hexDigit(body.charAt(i));
            if (digit < 0) {
                throw invalid(text, "invalid character " + NixBase32.quote(body, i) + " at index " + i
                    + " of base16 string \"" + body + "\"");
            }
            bytes[i / 2] |= (byte) (digit << (i % 2 == 0 ? 4 : 0));
        }
        return bytes;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** Decodes padded base64 of exactly {@code base64Length(algorithm)} characters, rejecting any other. */
    private static byte[] decodeBase64(String text, String body, HashAlgorithm algorithm) {
        int padding = (3 - algorithm.size() % 3) % 3;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            boolean valid = i < body.length() - padding ? isBase64Digit(c) : c == '=';
            if (!valid) {
                throw invalid(text, "invalid character " + NixBase32.quote(body, i) + " at index " + i
                    + " of base64 string \"" + body + "\" ("
                    + (i < body.length() - padding ? "A-Z a-z 0-9 + / expected" : "'=' padding expected")
                    + ")");
            }
        }
        byte[] bytes = Base64.getDecoder().decode(body);
        // The JDK ignores the unused low bits of the last digit; Granary wants one text per value.
        if (!Base64.getEncoder().encodeToString(bytes).equals(body)) {
            throw invalid(text, "base64 string \"" + body + "\" sets bits beyond its " + bytes.length
                + " bytes in its last digit");
        }
        return bytes;
    }

    private static InvalidHashException invalid(String text, String problem) {
        return invalid(text, problem, null);
    }

    private static InvalidHashException invalid(String text, String problem, Throwable cause) {
        return new InvalidHashException("invalid hash \"" + text + "\": " + problem, cause);
    }

    private static boolean isBase64Digit(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/';
    }

    private static int base64Length(HashAlgorithm algorithm) {
        return (algorithm.size() + 2) / 3 * 4;
    }
}
