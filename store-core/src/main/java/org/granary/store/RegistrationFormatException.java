package org.granary.store;

import java.io.IOException;

/**
 * A registration text (the reg-info format of {@code nix-store --register-validity}, or the dump of
 * {@code nix-store --dump-db}) that breaks its format: the message says on which line (counted from 1) and
 * what was expected, for example {@code registration input line 7: expected the number of references
 * (decimal) but found "x"}, or {@code registration input line 4: unexpected end of input, expected a
 * reference}. Immutable, so safe to share between threads.
 */
public class RegistrationFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The line of the input where the bad text is, from 1. */

    private final long line;

    /**
     * Creates the exception.
     *
     * @param line the line at fault, counted from 1
     * @param problem what was expected and what was found
     */
    public RegistrationFormatException(long line, String problem) {
        super("registration input line " + line + ": " + problem);
        this.line = line;
    }

    /**
     * Returns the line at fault (for a truncated input: the line where more was expected).
     *
     * @return the line number, counted from 1
     */
    public long line() {
        return line;
    }
}
