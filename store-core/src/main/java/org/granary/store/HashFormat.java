package org.granary.store;

/**
 * The text forms of a hash; see {@link Hash#format(HashFormat)}.
 *
 * <p>Immutable; safe to share between threads.
 */
public enum HashFormat {
    /** Lower-case hexadecimal, first byte first, as in the database and in {@code .drv} files. */
    BASE16,
    /** nix-base32 ({@link NixBase32}), as {@code guix hash} and narinfo files print. */
    BASE32,
    /** Standard base64 with padding (RFC 4648 §4). */
    BASE64,
    /** Subresource Integrity: {@code <algorithm>-<base64>}, such as {@code sha256-HDfQ…BM=}. */
    SRI
}
