package org.granary.verify;

/**
 * How far verification has come: items and NAR bytes done of the total. The byte figures count NAR
 * bytes as the database records them, so they move only during the contents check. Immutable; safe to
 * share between threads.
 *
 * @param phase what is being done
 * @param itemsDone items finished in this phase
 * @param itemsTotal items in this phase
 * @param bytesDone NAR bytes finished (contents check only)
 * @param bytesTotal NAR bytes to hash (contents check only; 0 otherwise)
 */
public record Progress(Phase phase, long itemsDone, long itemsTotal, long bytesDone, long bytesTotal) {

    /** The phases of verification, in order. */
    public enum Phase {
        /** Reading the database and checking its invariants. */
        DATABASE,
        /** Checking that every valid item exists and its metadata is canonical. */
        ITEMS,
        /** Hashing every item's NAR. */
        CONTENTS,
        /** Repairing what was found. */
        REPAIR
    }

    /**
     * Receives progress reports. Called from the verifying threads, possibly several at once, so an
     * implementation must be thread-safe; it should return quickly.
     */
    @FunctionalInterface
    public interface Listener {
        /**
         * Receives one report.
         *
         * @param progress the state reached
         */
        void progress(Progress progress);

        /** A listener that ignores every report. */
        Listener NONE = progress -> { };
    }
}
