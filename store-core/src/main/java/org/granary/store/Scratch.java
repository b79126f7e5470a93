package org.granary.store;

import java.nio.ByteBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Off-heap copies of the keys and values a thread hands to LMDB. lmdbjava's byte-array proxy allocated
 * fresh native memory for every key and value of every call (and copied every result back onto the
 * heap): with 100,000 paths of 7.5 references that was most of registration's 12.5 s. Through the
 * {@code DirectBuffer} proxy a call passes the address of one of these two reused buffers instead.
 *
 * <p>A view stays valid until the next call of the same method on the same thread: pass it straight to
 * LMDB, which copies what it keeps. One instance per thread ({@link #get}); not thread-safe.
 */
final class Scratch {
    /** LMDB's default largest key, 511 bytes: every key we use (20-byte hash parts, meta names) fits. */
    private static final int MAX_KEY = 511;
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::new);

    private final ByteBuffer keyMemory = ByteBuffer.allocateDirect(MAX_KEY);
    private final UnsafeBuffer key = new UnsafeBuffer(keyMemory);
    private ByteBuffer valMemory = ByteBuffer.allocateDirect(1024);
    private final UnsafeBuffer val = new UnsafeBuffer(valMemory);

    private Scratch() {
    }

    /** This thread's buffers. */
    static Scratch get() {
        return PER_THREAD.get();
    }

    /** An off-heap copy of a key, valid until the next {@code key} call of this thread. */
    DirectBuffer key(byte[] bytes) {
        return key(bytes, 0, bytes.length);
    }

    /** An off-heap copy of {@code length} bytes of {@code bytes} from {@code offset}, as a key. */
    DirectBuffer key(byte[] bytes, int offset, int length) {
        if (length > MAX_KEY) {
            throw new IllegalArgumentException("a key of " + length + " bytes is longer than LMDB's " + MAX_KEY);
        }
        key.wrap(keyMemory, 0, length);
        key.putBytes(0, bytes, offset, length);
        return key;
    }

    /** An off-heap copy of a value, valid until the next {@code val} call of this thread. */
    DirectBuffer val(byte[] bytes) {
        return val(bytes, 0, bytes.length);
    }

    /** An off-heap copy of {@code length} bytes of {@code bytes} from {@code offset}, as a value. */
    DirectBuffer val(byte[] bytes, int offset, int length) {
        if (length > valMemory.capacity()) {
            valMemory = ByteBuffer.allocateDirect(Math.max(length, 2 * valMemory.capacity()));
        }
        val.wrap(valMemory, 0, length);
        val.putBytes(0, bytes, offset, length);
        return val;
    }

    /** A heap copy of what a buffer from LMDB shows (valid only until the transaction's next call). */
    static byte[] bytes(DirectBuffer buffer) {
        byte[] bytes = new byte[buffer.capacity()];
        buffer.getBytes(0, bytes);
        return bytes;
    }
}
