package org.granary.verify;

import java.io.IOException;
import java.util.Optional;
import org.granary.store.StorePath;

/**
 * A source of store items as NARs, such as a binary cache. Repair asks the configured substituters in
 * order and accepts a substitute only when the NAR it restores hashes to the NAR hash of the local
 * database: a substituter's word is never trusted on its own.
 */
public interface Substituter {

    /**
     * Returns where this substituter fetches from, for reports and messages.
     *
     * @return its URI, such as {@code file:///srv/cache} or {@code https://ci.guix.gnu.org}
     */
    String uri();

    /**
     * Looks an item up.
     *
     * @param path the item wanted, of the store dir this substituter serves
     * @return the substitute, or empty if this substituter does not have the item
     * @throws SubstituteException if it has the item but offers something that must be refused (an
     *     untrusted or bad signature, another store dir, a malformed narinfo), naming the reason
     * @throws IOException if it cannot be reached or read
     */
    Optional<Substitute> lookup(StorePath path) throws IOException;
}
