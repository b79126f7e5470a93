package org.granary.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the store is: the logical store dir, the string that goes into every store path and so into
 * every hash (default {@code /gnu/store}), and the physical root under which it lives on this machine
 * (default {@code /}). The files of {@code /gnu/store/abc…-x} are at {@code ROOT/gnu/store/abc…-x}, so a
 * store under a temporary root keeps the hashes of the real one.
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param logical the store dir as written in store paths: absolute and canonical (no {@code .} or
 *     {@code ..} component, no empty component, no trailing {@code /}), not {@code /} itself
 * @param root the directory the logical dir is resolved under
 */
public record StoreDir(String logical, Path root) {
    /** {@code /gnu/store} under {@code /}: Guix's own store. */
    public static final StoreDir DEFAULT = new StoreDir("/gnu/store", Path.of("/"));

    /**
     * Checks the arguments; see {@link #of(String, Path)}.
     *
     * @param logical the logical store dir
     * @param root the physical root
     */
    public StoreDir {
        checkLogical(logical);
        Objects.requireNonNull(root, "root");
    }

    /**
     * Returns the store dir {@code logical} placed under {@code root}.
     *
     * @param logical the store dir as written in store paths, such as {@code /gnu/store}
     * @param root the directory it lives under on this machine, such as {@code /} or a test's temporary
     *     directory
     * @return the store dir
     * @throws IllegalArgumentException if {@code logical} is not absolute and canonical
     */
    public static StoreDir of(String logical, Path root) {
        return new StoreDir(logical, root);
    }

    /**
     * Returns where the files of a store item are on this machine: root, then the logical dir, then the
     * item's base name.
     *
     * @param path an item of this store dir
     * @return {@code root/<logical>/<hash>-<name>}
     * @throws IllegalArgumentException if {@code path} belongs to another store dir
     */
    public Path physicalPath(StorePath path) {
        if (!path.storeDir().equals(logical)) {
            throw new IllegalArgumentException(
                "store path " + path + " is not in store dir " + logical);
        }
        return root.resolve(logical.substring(1)).resolve(path.baseName());
    }

    /** Rejects a logical store dir that the daemon would not have canonicalised to itself. */
    static void checkLogical(String logical) {
        Objects.requireNonNull(logical, "logical store dir");
        String problem = null;
        if (!logical.startsWith("/")) {
            problem = "not absolute";
        } else if (logical.length() == 1) {
            problem = "the root directory cannot be a store dir";
        } else if (logical.endsWith("/")) {
            problem = "trailing '/'";
        } else if (logical.indexOf('\0') >= 0) {
            problem = "contains NUL";
        } else {
            for (String component : logical.substring(1).split("/", -1)) {
                if (component.isEmpty() || component.equals(".") || component.equals("..")) {
                    problem = "not canonical (component \"" + component + "\")";
                    break;
                }
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("invalid store dir \"" + logical + "\": " + problem);
        }
    }
}
