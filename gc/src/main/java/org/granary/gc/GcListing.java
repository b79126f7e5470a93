package org.granary.gc;

import java.util.List;

/**
 * What a listing found, with no side effect on the store: paths (dead or live) and the stale roots seen.
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param paths full paths in the store dir, sorted
 * @param staleRoots the stale roots seen
 */
public record GcListing(List<String> paths, List<StaleRoot> staleRoots) {
    /**
     * Copies the lists.
     *
     * @param paths full paths in the store dir, sorted
     * @param staleRoots the stale roots seen
     *
     * @throws NullPointerException if one is null
     */
    public GcListing {
        paths = List.copyOf(paths);
        staleRoots = List.copyOf(staleRoots);
    }
}
