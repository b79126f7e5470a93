package org.granary.verify.cache;

import java.io.IOException;

/**
 * A file fetched from a binary cache that is not what its narinfo says: the compressed file's
 * {@code FileHash} or {@code FileSize}, or the decompressed NAR's {@code NarHash} or {@code NarSize},
 * differs (a truncated download shows as a size).
 */
public class ContentMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The file's URL. */

    private final String source;
    /** The narinfo field it disagrees with. */
    private final String field;
    /** The field's value. */
    private final String expected;
    /** What the file has. */
    private final String actual;

    /**
     * Creates the exception.
     *
     * @param source the file's URL
     * @param field the narinfo field it disagrees with, such as {@code NarHash}
     * @param expected the field's value
     * @param actual what the file has (for a size found too large while reading: more than the field)
     */
    public ContentMismatchException(String source, String field, String expected, String actual) {
        super(source + ": " + field + " mismatch: the narinfo says " + expected + ", the file has " + actual);
        this.source = source;
        this.field = field;
        this.expected = expected;
        this.actual = actual;
    }

    /**
     * Returns the file's URL.
     *
     * @return the URL
     */
    public String source() {
        return source;
    }

    /**
     * Returns the narinfo field.
     *
     * @return {@code FileHash}, {@code FileSize}, {@code NarHash} or {@code NarSize}
     */
    public String field() {
        return field;
    }

    /**
     * Returns the value the narinfo gives.
     *
     * @return the expected value
     */
    public String expected() {
        return expected;
    }

    /**
     * Returns what was found.
     *
     * @return the actual value
     */
    public String actual() {
        return actual;
    }
}
