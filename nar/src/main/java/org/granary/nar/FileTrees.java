package org.granary.nar;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Removing a restored or half-written tree: what every user of the restorer needs when something fails.
 *
 * <p>Thread-safe (no state); two threads must not delete the same tree at once.
 */
public final class FileTrees {
    private static final Set<PosixFilePermission> OWNER_ALL = PosixFilePermissions.fromString("rwx------");

    private FileTrees() {}

    /**
     * Deletes whatever is at {@code root} (a directory tree, a file or a symlink), never following a
     * symlink: a symlink is deleted itself, its target is left alone. Directories are made writable by
     * their owner first, so that a canonical (read-only) store item can be deleted without root. Does
     * nothing if {@code root} does not exist. The walk is iterative, so any depth works.
     *
     * @param root the tree, file or symlink to delete
     * @throws IOException if something cannot be deleted; what was deleted stays deleted
     */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) throws IOException {
                // Only real directories come here (the walk does not follow links).
                Files.setPosixFilePermissions(dir, OWNER_ALL);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** As {@link #deleteTree}, adding a failure to {@code error} (whose cleanup this is) as suppressed. */
    static void deleteTree(Path root, Throwable error) {
        try {
            deleteTree(root);
        } catch (IOException e) {
            error.addSuppressed(e);
        }
    }
}
