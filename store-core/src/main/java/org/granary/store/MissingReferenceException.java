package org.granary.store;

/**
 * A registration was refused because it would break the closure invariant: a path of the batch refers
 * to a path that is neither valid nor in the batch. Nothing of the batch was registered.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class MissingReferenceException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** The path being added or registered. */

    private final String path;
    /** Its reference that is not valid. */
    private final String reference;

    /**
     * Creates the exception.
     *
     * @param path the path being registered
     * @param reference its reference that is neither valid nor in the batch
     */
    public MissingReferenceException(StorePath path, StorePath reference) {
        super("cannot register " + path + ": its reference " + reference
            + " is not valid and not in the batch");
        this.path = path.toString();
        this.reference = reference.toString();
    }

    /**
     * Returns the path whose registration was refused.
     *
     * @return the full store path
     */
    public String path() {
        return path;
    }

    /**
     * Returns the reference that is missing.
     *
     * @return the full store path
     */
    public String reference() {
        return reference;
    }
}
