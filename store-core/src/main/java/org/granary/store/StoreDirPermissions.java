package org.granary.store;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Objects;

/**
 * The owner and mode of a multi-user store dir, as the Guix daemon sets them at every start when it runs as
 * root with {@code --build-users-group=G} (store-facts.md §6): owner root, group {@code G}, mode
 * {@code 01775}, so that build users can create outputs in the store dir but, for the sticky bit, not
 * delete or rename each other's. Run by anyone else, the daemon leaves the store dir alone, and so does this
 * class; a build users group that does not exist is an error, as in the daemon.
 *
 * <p>Stateless; safe to call from any thread. Two processes applying it at once both arrive at the same
 * owner and mode.
 */
public final class StoreDirPermissions {
    /** The mode of a multi-user store dir: sticky, {@code rwxrwxr-x}. */
    public static final int MODE = 01775;

    private static final int PERMISSION_BITS = 07777;

    private StoreDirPermissions() {
    }

    /**
     * Gives the store dir the owner root, the group {@code buildUsersGroup} and the mode {@link #MODE}
     * when this process runs as root (each changed only if it differs); does nothing otherwise.
     *
     * @param storeDir the physical store dir, which must exist
     * @param buildUsersGroup the name of the build users group, such as {@code guixbuild}
     * @return true if the process is root and the store dir now has that owner, group and mode; false if
     *     the process is not root and nothing was looked at
     * @throws StoreException naming the group, if it does not exist (nothing is changed)
     * @throws IOException if the store dir's attributes cannot be read or changed
     */
    public static boolean apply(Path storeDir, String buildUsersGroup) throws IOException {
        Objects.requireNonNull(storeDir, "storeDir");
        Objects.requireNonNull(buildUsersGroup, "buildUsersGroup");
        if (Canonicaliser.effectiveUid() != 0) {
            return false;
        }
        GroupPrincipal group;
        try {
            group = storeDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(buildUsersGroup);
        } catch (UserPrincipalNotFoundException e) {
            throw new StoreException("the build users group '" + buildUsersGroup + "' does not exist; create it"
                + " (groupadd --system " + buildUsersGroup + ") or name another", e);
        }
        PosixFileAttributeView view = Files.getFileAttributeView(storeDir, PosixFileAttributeView.class, NOFOLLOW_LINKS);
        if ((Integer) Files.getAttribute(storeDir, "unix:uid", NOFOLLOW_LINKS) != 0) {
            Files.setAttribute(storeDir, "unix:uid", 0, NOFOLLOW_LINKS);
        }
        if (!view.readAttributes().group().equals(group)) {
            view.setGroup(group);
        }
        // The sticky bit has no PosixFilePermission: the mode goes through the unix view. Changing the
        // owner may have cleared bits, so the mode comes last.
        int mode = (Integer) Files.getAttribute(storeDir, "unix:mode", NOFOLLOW_LINKS) & PERMISSION_BITS;
        if (mode != MODE) {
            Files.setAttribute(storeDir, "unix:mode", MODE, NOFOLLOW_LINKS);
        }
        return true;
    }
}
