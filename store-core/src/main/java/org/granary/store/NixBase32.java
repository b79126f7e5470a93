package org.granary.store;

/**
 * Nix's base-32 encoding ("nix32") and the XOR fold that shortens a hash for a store path
 * (store-facts.md §2).
 *
 * <p>The alphabet is {@value #ALPHABET} (no {@code e}, {@code o}, {@code u}, {@code t}); the byte
 * string is read as one little-endian bit string and its 5-bit groups are written last group first, so
 * the final character holds the low five bits of byte 0. There is no padding.
 *
 * <p>Decoding is strict like Nix, not lax like Guix: a length that no byte string encodes to, a
 * character outside the alphabet (upper case included), and non-zero bits beyond the last byte are
 * all rejected, so that every byte string has exactly one encoding.
 *
 * <p>Stateless; all methods are safe to call from any thread.
 */
public final class NixBase32 {
    /** The 32 digits, in the order of their values. */
    public static final String ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

    /** Digit value of each ASCII character, or -1; a table lookup keeps decoding branch-light. */
    private static final byte[] VALUES = new byte[128];

    static {
        java.util.Arrays.fill(VALUES, (byte) -1);
        for (int i = 0; i < ALPHABET.length(); i++) {
            VALUES[ALPHABET.charAt(i)] = (byte) i;
        }
    }

    private NixBase32() {
    }

    /**
     * Returns the length of the encoding of {@code bytes} bytes: {@code ceil(8 * bytes / 5)}.
     *
     * @param bytes a byte count, not negative
     * @return 26 for 16 bytes, 32 for 20, 52 for 32, 103 for 64, 0 for 0
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public static int encodedLength(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative byte count " + bytes);
        }
        return (int) ((8L * bytes + 4) / 5);
    }

    /**
     * Encodes bytes in nix-base32.
     *
     * @param bytes the bytes to encode (not modified)
     * @return the encoding, {@link #encodedLength(int)} characters long
     */
    public static String encode(byte[] bytes) {
        int length = encodedLength(bytes.length);
        char[] out = new char[length];
        for (int k = 0; k < length; k++) {
            int bit = 5 * k;
            int i = bit >>> 3;
            int j = bit & 7;
            int c = (bytes[i] & 0xff) >>> j;
            if (i + 1 < bytes.length) {
                c |= (bytes[i + 1] & 0xff) << (8 - j);
            }
            out[length - 1 - k] = ALPHABET.charAt(c & 31);
        }
        return new String(out);
    }

    /**
     * Decodes a nix-base32 string.
     *
     * @param text the encoding
     * @return the {@code floor(5 * length / 8)} bytes it encodes
     * @throws IllegalArgumentException naming the problem if {@code text} has a length that no byte
     *     string encodes to, holds a character outside the alphabet (the message quotes it and gives its
     *     index), or sets bits beyond the last byte
     */
    public static byte[] decode(CharSequence text) {
        int length = text.length();
        int size = (int) (5L * length / 8);
        if (encodedLength(size) != length) {
            throw new IllegalArgumentException("nix-base32 string \"" + text + "\" has length " + length
                + ", which is the length of no encoding (" + encodedLength(size) + " or "
                + encodedLength(size + 1) + " would be)");
        }
        byte[] out = new byte[size];
        // Left to right, so that the first bad character is the one reported.
        for (int index = 0; index < length; index++) {
            int k = length - 1 - index;
            int digit = digit(text.charAt(index));
            if (digit < 0) {
                throw new IllegalArgumentException("invalid character " + quote(text, index) + " at index "
                    + index + " of nix-base32 string \"" + text + "\"");
            }
            int bit = 5 * k;
            int i = bit >>> 3;
            int j = bit & 7;
            out[i] |= (byte) (digit << j);
            int carry = digit >>> (8 - j);
            if (i + 1 < size) {
                out[i + 1] |= (byte) carry;
            } else if (carry != 0) {
                throw new IllegalArgumentException("nix-base32 string \"" + text + "\" sets bits beyond its "
                    + size + " bytes in its first character '" + text.charAt(index) + "'");
            }
        }
        return out;
    }

    /**
     * Folds a hash to {@code size} bytes by XOR: byte {@code i} of the input goes into byte
     * {@code i mod size} of the result. Store paths use {@code size} 20.
     *
     * @param hash the hash to fold (not modified)
     * @param size the length of the result, positive
     * @return a new array of {@code size} bytes
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    public static byte[] compress(byte[] hash, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("compressed size must be positive, not " + size);
        }
        byte[] out = new byte[size];
        for (int i = 0; i < hash.length; i++) {
            out[i % size] ^= hash[i];
        }
        return out;
    }

    /** The value of a nix-base32 digit, or -1 if {@code c} is not one. */
    static int digit(char c) {
        return c < VALUES.length ? VALUES[c] : -1;
    }

    /**
     * Quotes the character at {@code index} for an error message: printable ASCII as {@code 'c'}, anything
     * else also by code point, so that control and look-alike characters are unambiguous.
     */
    static String quote(CharSequence text, int index) {
        int codePoint = Character.codePointAt(text, index);
        String quoted = "'" + new String(Character.toChars(codePoint)) + "'";
        if (codePoint >= 0x20 && codePoint < 0x7f) {
            return quoted;
        }
        String hex = String.format("U+%04X", codePoint);
        return Character.isISOControl(codePoint) || Character.isSurrogate((char) codePoint)
            ? hex : quoted + " (" + hex + ")";
    }
}
