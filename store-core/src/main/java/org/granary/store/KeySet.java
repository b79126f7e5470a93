package org.granary.store;

import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * A set of 20-byte keys that remembers their order of arrival, for walking a closure: the keys sit end to
 * end in one array (so the array, read from the start, is also the walk's queue) and an open-addressing
 * table of indexes finds them. It replaces a {@code HashSet<String>} of one string per key and an
 * {@code ArrayDeque<byte[]>}: no object per key, and a key is copied once, from LMDB's page into the
 * array.
 *
 * <p>Hash parts are truncated cryptographic hashes, so their first four bytes hash well enough. Not
 * thread-safe.
 */
final class KeySet {
    private static final int SIZE = Keys.SIZE;

    private byte[] keys = new byte[SIZE * 256];
    private int size;
    /** Index + 1 of the key in each slot, 0 for an empty slot; a power of two, at most half full. */
    private int[] slots = new int[512];
    private int shift = Integer.SIZE - 9;

    /** How many keys the set holds. */
    int size() {
        return size;
    }

    /** The array holding key {@code i} at {@link #offset}{@code (i)}; it changes as the set grows. */
    byte[] array() {
        return keys;
    }

    /** Where key {@code i} starts in {@link #array()}. */
    static int offset(int i) {
        return i * SIZE;
    }

    /** A copy of key {@code i}. */
    byte[] key(int i) {
        return Arrays.copyOfRange(keys, i * SIZE, i * SIZE + SIZE);
    }

    /** Adds a key; returns whether it was new (it is then key {@code size() - 1}). */
    boolean add(byte[] key) {
        ensureRoom();
        System.arraycopy(key, 0, keys, size * SIZE, SIZE);
        return addLast();
    }

    /** Adds the key at {@code offset} of {@code buffer}; returns whether it was new. */
    boolean add(DirectBuffer buffer, int offset) {
        ensureRoom();
        buffer.getBytes(offset, keys, size * SIZE, SIZE);
        return addLast();
    }

    /**
     * Adds the key at {@code offset} of {@code buffer} unless it is there; returns its index either way
     * (a new key gets index {@code size() - 1}).
     */
    int addIndex(DirectBuffer buffer, int offset) {
        ensureRoom();
        buffer.getBytes(offset, keys, size * SIZE, SIZE);
        return addLastIndex();
    }

    /** As {@link #addIndex(DirectBuffer, int)}, for a key at {@code offset} of {@code array}. */
    int addIndex(byte[] array, int offset) {
        ensureRoom();
        System.arraycopy(array, offset, keys, size * SIZE, SIZE);
        return addLastIndex();
    }

    /** The index of the key at {@code offset} of {@code array}, or -1 if the set does not hold it. */
    int indexOf(byte[] array, int offset) {
        ensureRoom();
        // Copied just past the last key, as a probe: the set's size does not change.
        System.arraycopy(array, offset, keys, size * SIZE, SIZE);
        return slots[find(size * SIZE)] - 1;
    }

    /** The index of the key at {@code offset} of {@code buffer}, or -1 if the set does not hold it. */
    int indexOf(DirectBuffer buffer, int offset) {
        ensureRoom();
        buffer.getBytes(offset, keys, size * SIZE, SIZE);
        return slots[find(size * SIZE)] - 1;
    }

    /** Adds the key just copied after the last one unless it is there; returns its index either way. */
    private int addLastIndex() {
        int slot = find(size * SIZE);
        if (slots[slot] != 0) {
            return slots[slot] - 1;
        }
        insert(slot);
        return size - 1;
    }

    /** Adds the key just copied after the last one, unless it is there already; returns whether it was new. */
    private boolean addLast() {
        int before = size;
        addLastIndex();
        return size > before;
    }

    /** The slot holding the key at {@code at} of the array, or the empty slot where it belongs. */
    private int find(int at) {
        int mask = slots.length - 1;
        for (int slot = hash(at); ; slot = (slot + 1) & mask) {
            int entry = slots[slot];
            if (entry == 0) {
                return slot;
            }
            int other = (entry - 1) * SIZE;
            if (Arrays.equals(keys, other, other + SIZE, keys, at, at + SIZE)) {
                return slot;
            }
        }
    }

    /** Makes the key just copied after the last one key {@code size}, in the empty {@code slot}. */
    private void insert(int slot) {
        slots[slot] = ++size;
        if (2 * size > slots.length) {
            rehash();
        }
    }

    private int hash(int at) {
        int h = (keys[at] & 0xff) << 24 | (keys[at + 1] & 0xff) << 16 | (keys[at + 2] & 0xff) << 8
            | keys[at + 3] & 0xff;
        return (h * 0x9E3779B9) >>> shift;
    }

    private void ensureRoom() {
        if ((size + 1) * SIZE > keys.length) {
            keys = Arrays.copyOf(keys, 2 * keys.length);
        }
    }

    private void rehash() {
        slots = new int[2 * slots.length];
        shift--;
        int mask = slots.length - 1;
        for (int i = 0; i < size; i++) {
            int slot = hash(i * SIZE);
            while (slots[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            slots[slot] = i + 1;
        }
    }
}
