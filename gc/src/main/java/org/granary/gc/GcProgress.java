package org.granary.gc;

/**
 * Receives the progress of a collection or a deduplication, so that a long run can show what it does.
 * Called on the thread doing the work, after each item; keep it quick.
 */
@FunctionalInterface
public interface GcProgress {
    /** A listener that ignores everything. */
    GcProgress NONE = (what, items, bytes) -> { };

    /**
     * Reports one more item done.
     *
     * @param what the item just deleted (or deduplicated): a path in the store dir
     * @param items how many items are done so far
     * @param bytes how many bytes are freed (or saved) so far
     */
    void progress(String what, long items, long bytes);
}
