package org.granary.store;

import java.util.Objects;

/**
 * A store item's path: {@code <storeDir>/<hashPart>-<name>}, such as
 * {@code /gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt} (store-facts.md §1).
 *
 * <p>The hash part is 32 nix-base32 characters (20 bytes). The name follows Guix's
 * {@code checkStoreName}: 1 to {@value #MAX_NAME_LENGTH} characters from {@code A-Z a-z 0-9 + - . _ ? =},
 * not starting with {@code .}. Guix itself checks no length; the limit is what fits in a file name of
 * 255 bytes after the hash part and {@code -}. (Nix allows a leading dot and at most 211 characters.)
 *
 * <p>Ordered as Guix sorts paths: by store dir, then hash part, then name (for paths of one store dir,
 * the order of their text). Immutable and validated on construction; safe to share between threads.
 *
 * @param storeDir the logical store dir, absolute and canonical (see {@link StoreDir})
 * @param hashPart the 32 nix-base32 characters
 * @param name the item's name
 */
public record StorePath(String storeDir, String hashPart, String name) implements Comparable<StorePath> {
    /** Characters in a hash part: 20 bytes in nix-base32. */
    public static final int HASH_PART_LENGTH = 32;
    /** The longest name: 255 (NAME_MAX) less the hash part and its {@code -}. */
    public static final int MAX_NAME_LENGTH = 255 - HASH_PART_LENGTH - 1;

    /**
     * Checks every part.
     *
     * @param storeDir the logical store dir
     * @param hashPart the 32 nix-base32 characters
     * @param name the item's name
     * @throws InvalidStorePathException naming the part at fault, if the hash part or name is invalid
     * @throws IllegalArgumentException if the store dir is not absolute and canonical
     */
    public StorePath {
        StoreDir.checkLogical(storeDir);
        Objects.requireNonNull(hashPart, "hashPart");
        Objects.requireNonNull(name, "name");
        String problem = hashPartProblem(hashPart);
        if (problem == null) {
            problem = nameProblem(name);
        }
        if (problem != null) {
            throw new InvalidStorePathException(
                "invalid store path \"" + storeDir + "/" + hashPart + "-" + name + "\": " + problem);
        }
    }

    /**
     * Parses a store path of the given store dir.
     *
     * @param path such as {@code /gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt}
     * @param storeDir the store dir it must be in
     * @return the store path
     * @throws InvalidStorePathException quoting {@code path} and naming the part at fault
     */
    public static StorePath parse(String path, StoreDir storeDir) {
        return parse(path, storeDir.logical());
    }

    /**
     * Parses a store path of the given logical store dir.
     *
     * @param path such as {@code /gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt}
     * @param storeDir the logical store dir it must be in, such as {@code /gnu/store}
     * @return the store path
     * @throws InvalidStorePathException quoting {@code path} and naming the part at fault: not in the
     *     store dir, a {@code /} after it, a base name too short, a bad hash part, a missing {@code -}
     *     after it, or a bad name
     * @throws IllegalArgumentException if {@code storeDir} is not absolute and canonical
     */
    public static StorePath parse(String path, String storeDir) {
        StoreDir.checkLogical(storeDir);
        int start = storeDir.length() + 1;
        if (!path.startsWith(storeDir) || path.length() <= storeDir.length() || path.charAt(start - 1) != '/') {
            throw invalid(path, "not in store dir " + storeDir);
        }
        int slash = path.indexOf('/', start);
        if (slash >= 0) {
            throw invalid(path, "'/' at index " + slash + " after the store dir: a store path names an item"
                + " directly in " + storeDir + ", not a file inside one");
        }
        String baseName = path.substring(start);
        if (baseName.length() <= HASH_PART_LENGTH) {
            throw invalid(path, "base name \"" + baseName + "\" is too short to hold a "
                + HASH_PART_LENGTH + "-character hash part, '-' and a name");
        }
        String hashPart = baseName.substring(0, HASH_PART_LENGTH);
        String problem = hashPartProblem(hashPart);
        if (problem != null) {
            throw invalid(path, problem);
        }
        if (baseName.charAt(HASH_PART_LENGTH) != '-') {
            throw invalid(path, "expected '-' after the hash part, at index " + (start + HASH_PART_LENGTH)
                + ", found " + NixBase32.quote(baseName, HASH_PART_LENGTH));
        }
        return new StorePath(storeDir, hashPart, baseName.substring(HASH_PART_LENGTH + 1));
    }

    /**
     * Returns the item's file name in the store dir.
     *
     * @return {@code <hashPart>-<name>}
     */
    public String baseName() {
        return hashPart + "-" + name;
    }

    /**
     * Returns the full path as Guix prints it.
     *
     * @return {@code <storeDir>/<hashPart>-<name>}
     */
    @Override
    public String toString() {
        return storeDir + "/" + baseName();
    }

    /**
     * Compares by store dir, then hash part, then name; consistent with {@link #equals(Object)}.
     *
     * @param other another store path
     * @return negative, zero or positive as this path sorts before, with or after {@code other}
     */
    @Override
    public int compareTo(StorePath other) {
        int c = storeDir.compareTo(other.storeDir);
        if (c == 0) {
            c = hashPart.compareTo(other.hashPart);
        }
        return c != 0 ? c : name.compareTo(other.name);
    }

    /** Says what is wrong with a hash part, or returns null if it is valid. */
    static String hashPartProblem(String hashPart) {
        if (hashPart.length() != HASH_PART_LENGTH) {
            return "hash part \"" + hashPart + "\" has " + hashPart.length() + " characters, not "
                + HASH_PART_LENGTH;
        }
        for (int i = 0; i < hashPart.length(); i++) {
            // 32 digits are exactly 160 bits, so any 32 valid digits decode: no padding bits to check.
            if (NixBase32.digit(hashPart.charAt(i)) < 0) {
                return "invalid character " + NixBase32.quote(hashPart, i) + " at index " + i
                    + " in hash part \"" + hashPart + "\" (nix-base32 digits " + NixBase32.ALPHABET
                    + " expected)";
            }
        }
        return null;
    }

    /** Says what is wrong with a name by Guix's rules, or returns null if it is valid. */
    static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "empty name";
        }
        for (int i = 0; i < name.length(); i++) {
            if (!isNameChar(name.charAt(i))) {
                return "invalid character " + NixBase32.quote(name, i) + " at index " + i + " in name \""
                    + name + "\" (A-Z a-z 0-9 + - . _ ? = expected)";
            }
        }
        if (name.charAt(0) == '.') {
            return "name \"" + name + "\" begins with '.', which Guix forbids";
        }
        if (name.length() > MAX_NAME_LENGTH) {
            return "name \"" + name + "\" has " + name.length() + " characters, more than "
                + MAX_NAME_LENGTH;
        }
        return null;
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
            || c == '+' || c == '-' || c == '.' || c == '_' || c == '?' || c == '=';
    }

    private static InvalidStorePathException invalid(String path, String problem) {
        return new InvalidStorePathException("invalid store path \"" + path + "\": " + problem);
    }
}
