package org.granary.store;

/**
 * An invalidation was refused because a path of the set is still referenced by a valid path outside
 * the set; invalidating it would leave that referrer with a reference that is not valid. Nothing of the
 * set was invalidated.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class StillReferencedException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** The path asked to be invalidated. */

    private final String path;
    /** A valid path that still refers to it. */
    private final String referrer;

    /**
     * Creates the exception.
     *
     * @param path the path asked to be invalidated
     * @param referrer a valid path outside the set that refers to it
     */
    public StillReferencedException(StorePath path, StorePath referrer) {
        super("cannot invalidate " + path + ": it is still referenced by the valid path " + referrer);
        this.path = path.toString();
        this.referrer = referrer.toString();
    }

    /**
     * Returns the path whose invalidation was refused.
     *
     * @return the full store path
     */
    public String path() {
        return path;
    }

    /**
     * Returns a valid referrer outside the set.
     *
     * @return the full store path
     */
    public String referrer() {
        return referrer;
    }
}
