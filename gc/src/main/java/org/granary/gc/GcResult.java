package org.granary.gc;

import java.util.List;

/**
 * What a collection did.
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param deleted the paths in the store dir that were deleted (valid paths, invalidated first, and invalid
 *     leftovers), in the order deleted
 * @param bytesFreed the bytes of the regular files deleted that had no other hard link, the unused
 *     {@code .links} entries removed included
 * @param limitReached whether the collection stopped at the amount asked rather than running out of garbage
 * @param unusedLinksRemoved how many {@code .links} entries nothing else used were removed
 * @param linkSavings how many bytes hard links to {@code .links} save, after the collection
 * @param staleRoots the stale roots seen (reported, never acted on)
 */
public record GcResult(List<String> deleted, long bytesFreed, boolean limitReached, long unusedLinksRemoved,
        long linkSavings, List<StaleRoot> staleRoots) {
    /**
     * Copies the lists.
     *
     * @param deleted the paths in the store dir that were deleted (valid paths, invalidated first, and
     *     invalid leftovers), in the order deleted
     * @param bytesFreed the bytes of the regular files deleted that had no other hard link, the unused {@code
     *     .links} entries removed included
     * @param limitReached whether the collection stopped at the amount asked rather than running out of
     *     garbage
     * @param unusedLinksRemoved how many {@code .links} entries nothing else used were removed
     * @param linkSavings how many bytes hard links to {@code .links} save, after the collection
     * @param staleRoots the stale roots seen (reported, never acted on)
     *
     * @throws NullPointerException if one is null
     */
    public GcResult {
        deleted = List.copyOf(deleted);
        staleRoots = List.copyOf(staleRoots);
    }
}
