package org.granary.store;

/**
 * An item's contents did not match what the caller said they were: the NAR received has another SHA-256
 * or another size than the {@link PathInfo} it came with. Nothing of the item was left on disk or in the
 * database.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class NarHashMismatchException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** The store path the NAR was announced for. */

    private final String path;
    /** The announced NAR hash. */
    private final String expectedHash;
    /** The hash of the bytes received. */
    private final String actualHash;
    /** The announced NAR size in bytes. */
    private final long expectedSize;
    /** The size of the bytes received. */
    private final long actualSize;

    /**
     * Creates the exception.
     *
     * @param path the item
     * @param expectedHash the NAR hash it should have had
     * @param expectedSize the NAR size it should have had (0 if unknown and not checked)
     * @param actualHash the NAR hash of what was received
     * @param actualSize the NAR size of what was received
     */
    public NarHashMismatchException(StorePath path, Hash expectedHash, long expectedSize, Hash actualHash,
            long actualSize) {
        super("NAR of " + path + " does not match: expected " + expectedHash.format(HashFormat.BASE32)
            + " (" + expectedSize + " bytes) but received " + actualHash.format(HashFormat.BASE32) + " ("
            + actualSize + " bytes)");
        this.path = path.toString();
        this.expectedHash = expectedHash.toString();
        this.actualHash = actualHash.toString();
        this.expectedSize = expectedSize;
        this.actualSize = actualSize;
    }

    /**
     * Returns the item.
     *
     * @return the full store path
     */
    public String path() {
        return path;
    }

    /**
     * Returns the NAR hash expected.
     *
     * @return such as {@code sha256:<base16>}
     */
    public String expectedHash() {
        return expectedHash;
    }

    /**
     * Returns the NAR hash received.
     *
     * @return such as {@code sha256:<base16>}
     */
    public String actualHash() {
        return actualHash;
    }

    /**
     * Returns the NAR size expected.
     *
     * @return bytes, 0 if it was unknown
     */
    public long expectedSize() {
        return expectedSize;
    }

    /**
     * Returns the NAR size received.
     *
     * @return bytes
     */
    public long actualSize() {
        return actualSize;
    }
}
