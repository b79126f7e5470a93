package org.granary.store;

/**
 * A reference database cannot be opened for this store: it was made for another logical store dir
 * (every path in it would be wrong here), or it has a schema version this Granary does not know. The
 * message names the directory and both values.
 *
 * <p>Fatal for the open: using the database would misread it or corrupt it.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class IncompatibleDatabaseException extends StoreException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the database, what it holds and what was expected
     */
    public IncompatibleDatabaseException(String message) {
        super(message);
    }
}
