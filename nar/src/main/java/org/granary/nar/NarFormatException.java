package org.granary.nar;

import java.io.IOException;

/**
 * A NAR that breaks the format: its message says where (the byte offset from the start of the NAR), what
 * was expected and what was found, for example {@code NAR offset 120: expected "contents" but found
 * "contentz"}, or {@code unexpected end of NAR at offset 64 while reading "contents"} for a truncated one.
 * Immutable, so safe to share between threads.
 */
public class NarFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The byte offset in the NAR where the offending bytes start. */
    private final long offset;

    /**
     * {@code message} is the whole message; {@code offset} is where the offending bytes start.
     *
     * @param message the whole message
     * @param offset the byte offset in the NAR where the offending bytes start
     */
    public NarFormatException(String message, long offset) {
        super(message);
        this.offset = offset;
    }

    /**
     * {@return the byte offset in the NAR where the bad token or value starts} For a truncated NAR: its
     * length, where more bytes were expected.
     */
    public long offset() {
        return offset;
    }
}
