package org.granary.verify;

import org.granary.store.StoreException;
import org.granary.store.StorePath;

/**
 * A substitute that must be refused: a signature that is missing, untrusted or does not verify, a
 * narinfo that is malformed or made for another store dir, a NAR whose hash or size is not the expected.
 */
public class SubstituteException extends StoreException {

    private static final long serialVersionUID = 1L;

    private final transient StorePath path;

    /**
     * Creates the exception.
     *
     * @param path the item concerned
     * @param message what is wrong and where (the substituter's URI, the field, expected and actual)
     */
    public SubstituteException(StorePath path, String message) {
        super(path + ": " + message);
        this.path = path;
    }

    /**
     * Creates the exception with a cause.
     *
     * @param path the item concerned
     * @param message what is wrong and where
     * @param cause the underlying failure
     */
    public SubstituteException(StorePath path, String message, Throwable cause) {
        super(path + ": " + message, cause);
        this.path = path;
    }

    /**
     * Returns the item concerned.
     *
     * @return its store path
     */
    public StorePath path() {
        return path;
    }
}
