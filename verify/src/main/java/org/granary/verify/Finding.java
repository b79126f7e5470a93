package org.granary.verify;

import java.util.Locale;
import java.util.Objects;

/**
 * One thing verification found wrong with the store, and what was done about it. Immutable; safe to
 * share between threads.
 *
 * @param kind what is wrong
 * @param path the store item concerned, as a full store path ({@code /gnu/store/…-name}); for a database
 *     record whose path cannot be read, its hash part
 * @param file the file inside the item (or the store-dir entry, for a leftover) where it was seen, as a
 *     physical path; null when it concerns the whole item or the database
 * @param expected what should be there, such as a NAR hash {@code sha256:<nix-base32>}, a mode
 *     {@code 0444}; null when there is nothing to say
 * @param actual what is there instead; null when there is nothing to say
 * @param damage whether it is damage: false for leftovers (garbage for the collector) and for a deriver
 *     that is not valid (usual for substituted items); the exit status counts only damage
 * @param action what was done
 * @param detail why the action was what it was, such as the substituter an item came from or why no
 *     substitute was accepted; null when there is nothing to add
 */
public record Finding(Kind kind, String path, String file, String expected, String actual, boolean damage,
        Action action, String detail) {

    /** The kinds of finding. */
    public enum Kind {
        /** A valid item that is not in the store dir. */
        MISSING,
        /** An item whose NAR hash or size is not the database's, or that cannot be read. */
        CONTENTS,
        /** An item whose modes or mtimes are not canonical. */
        METADATA,
        /** A database inconsistency: a reference, referrer or deriver that is not valid or not mirrored. */
        REFERENCE,
        /** An entry of the store dir that is not a valid item. */
        LEFTOVER;

        /**
         * Returns the name used in reports.
         *
         * @return such as {@code missing}
         */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What was done about a finding. */
    public enum Action {
        /** Nothing: reported only (verification without repair, or nothing a repair can do). */
        NONE,
        /** Repaired: re-canonicalised, or replaced by a substitute whose NAR hash is the database's. */
        REPAIRED,
        /** The item was missing, nothing referred to it and no substituter had it: it was made invalid. */
        INVALIDATED,
        /** A repair was tried and failed; {@link Finding#detail()} says why. */
        FAILED;

        /**
         * Returns the name used in reports.
         *
         * @return such as {@code repaired}
         */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Checks that the kind, path and action are given.
     *
     * @param kind what is wrong
     * @param path the item
     * @param file the file, or null
     * @param expected what should be there, or null
     * @param actual what is there, or null
     * @param damage whether it is damage
     * @param action what was done
     * @param detail why, or null
     */
    public Finding {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(action, "action");
    }

    /**
     * Says whether this finding leaves the store damaged: damage that was neither repaired nor removed by
     * invalidation.
     *
     * @return whether it still counts against the store
     */
    public boolean remains() {
        return damage && action != Action.REPAIRED && action != Action.INVALIDATED;
    }

    /**
     * Returns the same finding with another action.
     *
     * @param newAction what was done
     * @param newDetail why, or null
     * @return the finding with that action
     */
    public Finding withAction(Action newAction, String newDetail) {
        return new Finding(kind, path, file, expected, actual, damage, newAction, newDetail);
    }

    /**
     * One line for a person: kind, path, file, expected and actual, action.
     *
     * @return such as {@code contents /gnu/store/…-x: NAR hash sha256:… expected, sha256:… found (repaired)}
     */
    @Override
    public String toString() {
        StringBuilder line = new StringBuilder(kind.label()).append(' ').append(path);
        if (file != null) {
            line.append(" (").append(file).append(')');
        }
        if (actual != null) {
            line.append(": ").append(actual);
        }
        if (expected != null) {
            line.append(", expected ").append(expected);
        }
        if (action != Action.NONE) {
            line.append(" [").append(action.label()).append(']');
        }
        if (detail != null) {
            line.append(" (").append(detail).append(')');
        }
        return line.toString();
    }
}
