package org.granary.store;

/**
 * A text that is not a valid hash, or names an unknown algorithm. The message quotes the text and says
 * what is wrong with it.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class InvalidHashException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was parsed and what is wrong with it
     */
    public InvalidHashException(String message) {
        super(message);
    }

    /**
     * Creates the exception with the lower-level error that found the problem.
     *
     * @param message what was parsed and what is wrong with it
     * @param cause the error that found it
     */
    public InvalidHashException(String message, Throwable cause) {
        super(message, cause);
    }
}
