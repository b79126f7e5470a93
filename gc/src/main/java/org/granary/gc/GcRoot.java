package org.granary.gc;

import java.util.Objects;
import org.granary.store.StorePath;

/**
 * One root of a collection: a store path that is live whatever refers to it, and what makes it a root.
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param source what makes it a root: the file or link found under {@code gcroots/} (for an indirect root,
 *     the link outside the store dir that the root's link names), {@code temporary root of process PID}'s
 *     file, or {@code extra root} for a caller's root
 * @param path the store path kept
 * @param kind the kind of root
 */
public record GcRoot(String source, StorePath path, Kind kind) {
    /** The kinds of roots. */
    public enum Kind {
        /** A symlink to a store path, or a regular file named as a store item, under a roots directory. */
        DIRECT,
        /** A symlink outside the store that a link under a roots directory names. */
        INDIRECT,
        /** A root in the temporary-roots file of a running process. */
        TEMPORARY,
        /** A root the caller gave. */
        EXTRA
    }

    /**
     * Checks the components.
     *
     * @param source what makes it a root: the file or link found under {@code gcroots/} (for an indirect
     *     root, the link outside the store dir that the root's link names), {@code temporary root of process
     *     PID}'s file, or {@code extra root} for a caller's root
     * @param path the store path kept
     * @param kind the kind of root
     *
     * @throws NullPointerException if one is null
     */
    public GcRoot {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(kind, "kind");
    }

    /**
     * Returns the root as {@code guix gc --list-roots} prints it.
     *
     * @return {@code SOURCE -> PATH}
     */
    @Override
    public String toString() {
        return source + " -> " + path;
    }
}
