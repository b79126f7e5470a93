package org.granary.verify;

import java.io.IOException;
import java.io.InputStream;
import org.granary.store.PathInfo;

/** One item a {@link Substituter} offers: what it says of the item, and its NAR. */
public interface Substitute {

    /**
     * Returns what the substituter says of the item: NAR hash and size, references, deriver, signatures.
     *
     * @return the item's information, as the substituter gives it
     */
    PathInfo info();

    /**
     * Opens the item's NAR, decompressed. The caller checks its hash and size as it reads.
     *
     * @return the uncompressed NAR
     * @throws IOException if it cannot be fetched
     */
    InputStream openNar() throws IOException;
}
