package org.granary.store;

import java.util.Arrays;

/**
 * Database keys: a store path's hash part as its 20 decoded bytes. LMDB orders keys by unsigned bytes,
 * as {@link #compare} does.
 *
 * <p>Stateless; safe to call from any thread.
 */
final class Keys {
    /** Bytes in a key: the 160 bits of a hash part. */
    static final int SIZE = 20;

    private Keys() {
    }

    /** The key of a path. */
    static byte[] of(StorePath path) {
        return NixBase32.decode(path.hashPart());
    }

    /** The 32 characters of a key. */
    static String hashPart(byte[] key) {
        return NixBase32.encode(key);
    }

    /** LMDB's default key order: unsigned lexicographic. */
    static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }
}
