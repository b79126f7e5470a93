package org.granary.gc;

import java.util.Objects;

/**
 * A root that keeps nothing alive: a link whose target is gone, or names a store path that is not valid.
 * The collector reports it and never acts on it: neither the link nor anything else is deleted because of
 * it (a target may be missing only for a moment, for example on a network file system).
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param link the link or file found under a roots directory
 * @param target what it points to
 * @param reason why it keeps nothing alive
 */
public record StaleRoot(String link, String target, String reason) {
    /**
     * Checks the components.
     *
     * @param link the link or file found under a roots directory
     * @param target what it points to
     * @param reason why it keeps nothing alive
     *
     * @throws NullPointerException if one is null
     */
    public StaleRoot {
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(reason, "reason");
    }

    /**
     * Returns the stale root as one line.
     *
     * @return {@code LINK -> TARGET (REASON)}
     */
    @Override
    public String toString() {
        return link + " -> " + target + " (" + reason + ")";
    }
}
