package org.granary.store;

/**
 * A query or operation needs a valid path and was given one that is not (never registered,
 * invalidated, or registered under the same hash part with another name).
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class PathNotValidException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** The path that is not valid. */

    private final String path;

    /**
     * Creates the exception.
     *
     * @param path the path that is not valid
     */
    public PathNotValidException(StorePath path) {
        super("path " + path + " is not valid");
        this.path = path.toString();
    }

    /**
     * Returns the path that is not valid.
     *
     * @return the full store path
     */
    public String path() {
        return path;
    }
}
