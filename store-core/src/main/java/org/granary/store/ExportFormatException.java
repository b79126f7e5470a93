package org.granary.store;

import java.io.IOException;

/**
 * An export stream ({@code nix-store --export}, {@code guix archive --export}) whose framing or item
 * trailer breaks the format: its message says where (the byte offset from the start of the stream), what
 * was expected and what was found, for example {@code export offset 1208: expected the export magic
 * 0x4558494e ("NIXE") but found 0x4558494f}, or {@code unexpected end of export at offset 96 while
 * reading a reference}. A malformed NAR inside an item is reported as a
 * {@link org.granary.nar.NarFormatException} instead, also with its offset in the stream.
 * Immutable, so safe to share between threads.
 */
public class ExportFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The byte offset in the export stream where the bad bytes start. */

    private final long offset;

    /**
     * Creates the exception.
     *
     * @param message the whole message
     * @param offset where the offending bytes start in the export stream
     */
    public ExportFormatException(String message, long offset) {
        super(message);
        this.offset = offset;
    }

    /**
     * Returns the byte offset in the export stream where the bad value starts (for a truncated stream: its
     * length, where more bytes were expected).
     *
     * @return the offset from the start of the stream
     */
    public long offset() {
        return offset;
    }
}
