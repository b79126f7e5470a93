package org.granary.verify.cache;

import java.io.IOException;

/**
 * An lzip file that is malformed: a bad magic, version or dictionary size, a corrupt LZMA stream, or a
 * trailer whose CRC32, data size or member size disagrees with what was decoded.
 */
public class LzipFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The byte offset in the lzip file where the bad bytes start. */

    private final long offset;

    /**
     * Creates the exception.
     *
     * @param offset the byte offset in the compressed file where the problem was found
     * @param problem what was expected and what was found
     */
    public LzipFormatException(long offset, String problem) {
        this(offset, problem, null);
    }

    /**
     * Creates the exception with the decoder's error.
     *
     * @param offset the byte offset in the compressed file where the problem was found
     * @param problem what was expected and what was found
     * @param cause the LZMA decoder's error, or null
     */
    public LzipFormatException(long offset, String problem, Throwable cause) {
        super("lzip: at byte " + offset + ": " + problem, cause);
        this.offset = offset;
    }

    /**
     * Returns the offset in the compressed file.
     *
     * @return bytes from its start
     */
    public long offset() {
        return offset;
    }
}
