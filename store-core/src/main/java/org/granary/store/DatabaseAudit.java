package org.granary.store;

import java.util.Objects;

/**
 * What {@link StoreDatabase#audit(DatabaseAudit)} reports while it reads the whole database: every valid
 * item, and every inconsistency it finds instead of throwing. The audit calls it from one thread, in the
 * order it reads the database; an implementation need not be thread-safe.
 */
public interface DatabaseAudit {

    /**
     * Receives one valid item. Its {@link PathInfo#references()} are empty: the audit checks the edges
     * separately and does not join them to the items.
     *
     * @param info the item's path, NAR hash and size, deriver, registration time, signatures and content
     *     address
     */
    void item(PathInfo info);

    /**
     * Receives one inconsistency; the audit carries on after it.
     *
     * @param problem what is wrong and where
     */
    void problem(Problem problem);

    /** The kinds of inconsistency the audit finds. */
    enum Kind {
        /** A record of {@code info} that cannot be decoded. */
        CORRUPT_RECORD,
        /** An edge of {@code refs} from or to a hash part that is not valid (the closure invariant broken). */
        DANGLING_REFERENCE,
        /** An edge of {@code refs} whose mirror is missing from {@code referrers}. */
        MISSING_REFERRER,
        /** An edge of {@code referrers} whose mirror is missing from {@code refs}. */
        STRAY_REFERRER,
        /** A deriver that is not a valid path (usual for substituted items, whose derivations were never built here). */
        INVALID_DERIVER
    }

    /**
     * One inconsistency. Immutable; safe to share between threads.
     *
     * @param kind what is wrong
     * @param subject the item concerned: its full store path where the database names it, else its hash part
     * @param expected what the invariant requires, in words
     * @param actual what the database holds instead
     */
    record Problem(Kind kind, String subject, String expected, String actual) {
        /**
         * Checks that nothing is null.
         *
         * @param kind what is wrong
         * @param subject the item concerned
         * @param expected what the invariant requires
         * @param actual what the database holds
         */
        public Problem {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(expected, "expected");
            Objects.requireNonNull(actual, "actual");
        }
    }
}
