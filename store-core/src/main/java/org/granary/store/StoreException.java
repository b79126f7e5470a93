package org.granary.store;

/**
 * The store refused an operation: a path that is not valid, a reference that would leave the set of
 * valid paths unclosed, a path still referenced, a corrupt or foreign database. The message names the
 * path and the rule; subclasses carry the paths as values.
 *
 * <p>Unchecked: each refusal is the consequence of the caller's request or of the state of the store,
 * never of a transient condition that retrying the same call would cure.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the path and the rule that refused the operation
     */
    public StoreException(String message) {
        super(message);
    }

    /**
     * Creates the exception with the lower-level error that found the problem.
     *
     * @param message the path and the rule that refused the operation
     * @param cause the error that found it
     */
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
