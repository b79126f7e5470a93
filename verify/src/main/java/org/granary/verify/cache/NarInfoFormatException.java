package org.granary.verify.cache;

import java.io.IOException;

/**
 * A narinfo that is malformed: a line that is not {@code Key: value}, a missing or repeated field, or a
 * value that does not parse (a store path outside the store dir, a bad hash, a negative size).
 */
public class NarInfoFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The line, counted from 1; 0 for the whole text. */

    private final int line;
    /** The field concerned, or null. */
    private final String field;

    /**
     * Creates the exception.
     *
     * @param source where the narinfo came from (a URL or file), for the message
     * @param line the line, counted from 1; 0 when the problem is the whole text (a missing field)
     * @param field the field concerned, or null when the line has none
     * @param problem what was expected and what was found
     */
    public NarInfoFormatException(String source, int line, String field, String problem) {
        super(source + (line > 0 ? ": line " + line : "") + (field != null ? " (" + field + ")" : "") + ": "
            + problem);
        this.line = line;
        this.field = field;
    }

    /**
     * Returns the line at fault.
     *
     * @return its number, from 1; 0 for a problem of the whole text
     */
    public int line() {
        return line;
    }

    /**
     * Returns the field at fault.
     *
     * @return such as {@code NarHash}, or null
     */
    public String field() {
        return field;
    }
}
