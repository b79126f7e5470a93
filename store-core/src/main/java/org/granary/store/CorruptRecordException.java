package org.granary.store;

/**
 * A record of the reference database cannot be decoded: truncated, an unknown version, a field out of
 * range, trailing bytes, or text that is not what the field allows. The message names the item (by its
 * hash part, and its name when that much could be read) and what is wrong at which byte offset.
 *
 * <p>Fatal for the operation: the database no longer says what the item is, and guessing could make a
 * corrupt item look valid. {@code verify} reports such records.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class CorruptRecordException extends StoreException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which record and what is wrong with it
     */
    public CorruptRecordException(String message) {
        super(message);
    }

    /**
     * Creates the exception with the lower-level error that found the problem.
     *
     * @param message which record and what is wrong with it
     * @param cause the error that found it
     */
    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
