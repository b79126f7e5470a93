package org.granary.store;

/**
 * A text that is not a valid store path, or a name that no store item may have. The message quotes the
 * text and names the part at fault ("not in store dir …", "hash part", "name") and, for a bad character,
 * the character and its index in that part.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class InvalidStorePathException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the text and what is wrong with it
     */
    public InvalidStorePathException(String message) {
        super(message);
    }
}
