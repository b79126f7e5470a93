package org.granary.verify;

import java.util.List;
import java.util.Objects;

/**
 * What a verification does. Immutable; safe to share between threads (the substituters and the listener
 * must be, as several threads may call them).
 *
 * @param contents whether to hash every item's NAR and compare it with the database (slow: reads every
 *     byte of the store)
 * @param repair whether to repair what is found; without it nothing is changed, neither files nor database
 * @param jobs how many items to hash at once (at least 1)
 * @param substituters where repair fetches corrupt or missing items, asked in order
 * @param listener receives progress
 */
public record VerifyOptions(boolean contents, boolean repair, int jobs, List<Substituter> substituters,
        Progress.Listener listener) {

    /**
     * Checks the values.
     *
     * @param contents hash contents
     * @param repair repair
     * @param jobs parallel hashes
     * @param substituters substituters
     * @param listener progress listener
     * @throws IllegalArgumentException if {@code jobs} is less than 1
     */
    public VerifyOptions {
        if (jobs < 1) {
            throw new IllegalArgumentException("jobs must be at least 1, not " + jobs);
        }
        substituters = List.copyOf(substituters);
        Objects.requireNonNull(listener, "listener");
    }

    /**
     * The defaults: existence, database and metadata checks only, no repair, one job per core, no
     * substituters, no progress reports.
     *
     * @return the options
     */
    public static VerifyOptions defaults() {
        return new VerifyOptions(false, false, Runtime.getRuntime().availableProcessors(), List.of(),
            Progress.Listener.NONE);
    }

    /**
     * Returns these options with the contents check on or off.
     *
     * @param on whether to hash contents
     * @return the new options
     */
    public VerifyOptions withContents(boolean on) {
        return new VerifyOptions(on, repair, jobs, substituters, listener);
    }

    /**
     * Returns these options with repair on or off.
     *
     * @param on whether to repair
     * @return the new options
     */
    public VerifyOptions withRepair(boolean on) {
        return new VerifyOptions(contents, on, jobs, substituters, listener);
    }

    /**
     * Returns these options with another number of jobs.
     *
     * @param count items hashed at once
     * @return the new options
     */
    public VerifyOptions withJobs(int count) {
        return new VerifyOptions(contents, repair, count, substituters, listener);
    }

    /**
     * Returns these options with these substituters.
     *
     * @param list asked in order
     * @return the new options
     */
    public VerifyOptions withSubstituters(List<Substituter> list) {
        return new VerifyOptions(contents, repair, jobs, list, listener);
    }

    /**
     * Returns these options with this progress listener.
     *
     * @param progress the listener
     * @return the new options
     */
    public VerifyOptions withListener(Progress.Listener progress) {
        return new VerifyOptions(contents, repair, jobs, substituters, progress);
    }
}
