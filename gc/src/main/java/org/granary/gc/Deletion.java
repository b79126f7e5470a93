package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Deletes an entry of the store dir and counts the bytes it frees: the sizes of the regular files that
 * had no other hard link (a file also linked from {@code .links} frees nothing until the link goes).
 * Never follows a symlink; makes read-only directories writable first; an entry that disappears while
 * being deleted (another collector at work) is not an error. Iterative, so any depth works.
 *
 * <p>Stateless; safe to call from any thread.
 */
final class Deletion {
    private Deletion() {
    }

    /**
     * Deletes whatever is at {@code entry}.
     *
     * @return the bytes freed
     * @throws IOException if something cannot be deleted; what was deleted stays deleted
     */
    static long delete(Path entry) throws IOException {
        long freed = 0;
        ArrayDeque<Path> pending = new ArrayDeque<>();
        List<Path> directories = new ArrayList<>();
        pending.push(entry);
        while (!pending.isEmpty()) {
            Path current = pending.pop();
            Map<String, Object> attributes;
            try {
                attributes = Files.readAttributes(current, "unix:mode,nlink,size", NOFOLLOW_LINKS);
            } catch (NoSuchFileException gone) {
                continue;
            }
            int mode = (Integer) attributes.get("mode");
            int type = mode & 0170000;
            if (type == 0040000) {
                if ((mode & 0300) != 0300) {
                    Files.setPosixFilePermissions(current, PosixFilePermissions.fromString("rwx------"));
                }
                directories.add(current);
                try (DirectoryStream<Path> children = Files.newDirectoryStream(current)) {
                    children.forEach(pending::push);
                } catch (NoSuchFileException gone) {
                    continue;
                }
            } else {
                if (type == 0100000 && (Integer) attributes.get("nlink") <= 1) {
                    freed += (Long) attributes.get("size");
                }
                Files.deleteIfExists(current);
            }
        }
        for (int i = directories.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(directories.get(i));
        }
        return freed;
    }
}
