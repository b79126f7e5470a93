package org.granary.store;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store dir of a multi-user store: root, the build users group, 01775 — when run as root; nothing
 * otherwise, as the Guix daemon. Each test checks whichever of the two this process is.
 */
class StoreDirPermissionsTest {
    @TempDir
    Path tmp;

    @Test
    void asRootTheStoreDirBecomesRootTheGroupAndStickyGroupWritable() throws IOException {
        Path store = Files.createDirectory(tmp.resolve("store"));
        Files.setAttribute(store, "unix:mode", 0755);
        Group other = someGroupOtherThanRoot();
        boolean root = Canonicaliser.effectiveUid() == 0;
        if (root) {
            Files.setAttribute(store, "unix:uid", 65534); // somebody else's, as an unprivileged install leaves it
        }
        int uidBefore = uid(store);

        assertEquals(root, StoreDirPermissions.apply(store, other.name()));

        if (root) {
            assertEquals(0, uid(store));
            assertEquals(other.gid(), (Integer) Files.getAttribute(store, "unix:gid", NOFOLLOW_LINKS));
            assertEquals(01775, mode(store));
            // Idempotent: a second start finds everything in place.
            assertTrue(StoreDirPermissions.apply(store, other.name()));
            assertEquals(01775, mode(store));
        } else {
            assertEquals(uidBefore, uid(store));
            assertEquals(0755, mode(store));
        }
    }

    @Test
    void aBuildUsersGroupThatDoesNotExistIsRefusedByNameAsRootAndNothingChanges() throws IOException {
        Path store = Files.createDirectory(tmp.resolve("store"));
        Files.setAttribute(store, "unix:mode", 0755);
        int gid = (Integer) Files.getAttribute(store, "unix:gid", NOFOLLOW_LINKS);
        if (Canonicaliser.effectiveUid() == 0) {
            StoreException e = assertThrows(StoreException.class,
                () -> StoreDirPermissions.apply(store, "granary-no-such-group"));
            assertTrue(e.getMessage().contains("'granary-no-such-group' does not exist"), e.getMessage());
        } else {
            assertFalse(StoreDirPermissions.apply(store, "granary-no-such-group"));
        }
        assertEquals(0755, mode(store));
        assertEquals(gid, (Integer) Files.getAttribute(store, "unix:gid", NOFOLLOW_LINKS));
    }

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", NOFOLLOW_LINKS) & 07777;
    }

    private static int uid(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid", NOFOLLOW_LINKS);
    }

    record Group(String name, int gid) {}

    /** A group of this system other than root (gid 0), from /etc/group: the change must be visible. */
    static Group someGroupOtherThanRoot() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/etc/group"), StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] fields = line.split(":", -1);
            if (fields.length >= 3 && !fields[2].equals("0") && !fields[0].isEmpty() && fields[2].matches("\\d+")) {
                return new Group(fields[0], Integer.parseInt(fields[2]));
            }
        }
        throw new IllegalStateException("/etc/group names no group but root");
    }
}
