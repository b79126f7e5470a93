package org.granary.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a {@link LocalStore} lives: the store dir (logical dir and physical root), the logical state dir
 * (resolved under the same root, so {@code /var/guix} under root {@code R} is {@code R/var/guix}) and the
 * size of the reserved-space file kept in it.
 *
 * <p>Immutable and validated on construction; safe to share between threads.
 *
 * @param storeDir the store dir, such as {@code /gnu/store} under {@code /}
 * @param stateDir the state dir as an absolute, canonical logical path, such as {@code /var/guix}
 * @param reservedSpace the size of {@code db/reserved} in bytes, at least 0
 */
public record StoreConfig(StoreDir storeDir, String stateDir, long reservedSpace) {
    /** The default logical state dir, as Guix's {@code localstatedir}: {@code /var/guix}. */
    public static final String DEFAULT_STATE_DIR = "/var/guix";

    /**
     * Checks the components.
     *
     * @param storeDir the store dir, such as {@code /gnu/store} under {@code /}
     * @param stateDir the state dir as an absolute, canonical logical path, such as {@code /var/guix}
     * @param reservedSpace the size of {@code db/reserved} in bytes, at least 0
     * @throws IllegalArgumentException if {@code stateDir} is not absolute and canonical, or
     *     {@code reservedSpace} is negative
     */
    public StoreConfig {
        Objects.requireNonNull(storeDir, "storeDir");
        StoreDir.checkLogical(stateDir);
        if (reservedSpace < 0) {
            throw new IllegalArgumentException("negative reserved space " + reservedSpace);
        }
    }

    /**
     * Returns Guix's layout under {@code root}: store dir {@code /gnu/store}, state dir {@code /var/guix},
     * {@link ReservedSpace#DEFAULT_SIZE} reserved.
     *
     * @param root the physical root, {@code /} for the machine's own store
     * @return the configuration
     */
    public static StoreConfig under(Path root) {
        return new StoreConfig(StoreDir.of("/gnu/store", root), DEFAULT_STATE_DIR, ReservedSpace.DEFAULT_SIZE);
    }

    /**
     * Returns a copy with another reserved-space size.
     *
     * @param size the size of {@code db/reserved} in bytes
     * @return the configuration
     */
    public StoreConfig withReservedSpace(long size) {
        return new StoreConfig(storeDir, stateDir, size);
    }

    /**
     * Returns the physical store directory.
     *
     * @return {@code root/<logical store dir>}
     */
    public Path physicalStoreDir() {
        return storeDir.root().resolve(storeDir.logical().substring(1));
    }

    /**
     * Returns the physical state directory.
     *
     * @return {@code root/<state dir>}
     */
    public Path physicalStateDir() {
        return storeDir.root().resolve(stateDir.substring(1));
    }

    /**
     * Returns the directory of the LMDB environment.
     *
     * @return {@code <physical state dir>/db/lmdb}
     */
    public Path databaseDir() {
        return physicalStateDir().resolve("db").resolve("lmdb");
    }
}
