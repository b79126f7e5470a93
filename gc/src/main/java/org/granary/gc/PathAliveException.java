package org.granary.gc;

import org.granary.store.StoreException;
import org.granary.store.StorePath;

/**
 * A path asked to be deleted is alive: a root keeps it. Nothing was deleted.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class PathAliveException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** The live path, as text. */
    private final String path;
    /** The root that keeps it alive, as text. */
    private final String root;

    /**
     * Creates the exception.
     *
     * @param path the live path
     * @param root the root that keeps it alive
     */
    public PathAliveException(StorePath path, GcRoot root) {
        super("cannot delete path " + path + " since it is still alive: "
            + (root.path().equals(path) ? "it is a root" : "it is reachable from the root " + root.path())
            + " (" + root.kind().name().toLowerCase(java.util.Locale.ROOT) + " root " + root.source() + ")");
        this.path = path.toString();
        this.root = root.toString();
    }

    /**
     * Returns the live path.
     *
     * @return the full store path
     */
    public String path() {
        return path;
    }

    /**
     * Returns the root that keeps it alive.
     *
     * @return {@code SOURCE -> ROOT PATH}
     */
    public String root() {
        return root;
    }
}
