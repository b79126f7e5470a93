package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.granary.store.Canonicaliser;
import org.granary.store.GcLock;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StoreGraph;

/**
 * Deduplication of a store's files, as {@code guix gc --optimize}: every regular file of at least
 * {@value #MIN_SIZE} bytes in a valid item is hard-linked with the other files of the same contents
 * through {@code .links/<nix-base32 SHA-256 of the file's NAR>} (so an executable and a plain file with the
 * same bytes stay apart), as the Guix daemon's {@code optimisePath}: the first such file becomes the
 * {@code .links} entry; each later one is replaced, atomically, by a hard link to it (linked under a
 * temporary name in the store dir and renamed over the file).
 *
 * <p>Only files of valid items are linked — an item being written is not valid yet, and a file with its
 * owner's write bit (not canonical, so perhaps still written) is skipped. {@code EMLINK} (too many links
 * to one inode) means "do not link this file"; a full disk likewise. An entry whose size differs from the
 * file's is corrupt: it is replaced. The pass holds the GC lock shared, so that no collection removes an
 * entry it is about to link to; it waits while a collection runs.
 *
 * <p>Safe to share between threads; two passes at once do no harm (each link is atomic) but waste work.
 */
public final class Optimiser {
    /** Files smaller than this are never linked (Guix's {@code deduplicationMinSize}). */
    public static final long MIN_SIZE = 8192;

    private static final Set<PosixFilePermission> WRITABLE_DIR = Set.of(PosixFilePermission.OWNER_READ,
        PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE);

    private final StoreConfig config;
    private final StoreDatabase database;

    /**
     * What a pass did.
     *
     * @param filesLinked files replaced by a link to their {@code .links} entry
     * @param bytesSaved the sizes of those files: space no longer used twice
     * @param filesSkipped files of the right size left alone (too many links, writable, full disk)
     */
    public record Result(long filesLinked, long bytesSaved, long filesSkipped) {
    }

    /**
     * Creates an optimiser for a store whose database the caller has open.
     *
     * @param config where the store is
     * @param database its database
     */
    public Optimiser(StoreConfig config, StoreDatabase database) {
        this.config = Objects.requireNonNull(config, "config");
        this.database = Objects.requireNonNull(database, "database");
    }

    /**
     * Deduplicates every valid item.
     *
     * @param progress told of each file linked (bytes: saved so far)
     * @return what was linked and saved
     * @throws IOException if an item cannot be read or a link made for a reason other than those that
     *     mean "do not link"
     */
    @SuppressWarnings("try") // the lock is held, not used
    public Result optimise(GcProgress progress) throws IOException {
        Path storeDir = config.physicalStoreDir();
        Files.createDirectories(storeDir.resolve(Links.DIR));
        try (GcLock.Held lock = GcLock.at(config.physicalStateDir()).lockShared()) {
            StoreGraph graph = database.graph();
            Pass pass = new Pass(storeDir, progress);
            for (int i = 0; i < graph.size(); i++) {
                Path item = storeDir.resolve(graph.path(i).baseName());
                pass.item(item);
            }
            return new Result(pass.linked, pass.saved, pass.skipped);
        }
    }

    /** One pass's counters and walk. */
    private static final class Pass {
        final Path storeDir;
        final Path linksDir;
        final GcProgress progress;
        long linked;
        long saved;
        long skipped;

        Pass(Path storeDir, GcProgress progress) {
            this.storeDir = storeDir;
            this.linksDir = storeDir.resolve(Links.DIR);
            this.progress = progress;
        }

        void item(Path item) throws IOException {
            ArrayDeque<Path> pending = new ArrayDeque<>();
            pending.push(item);
            while (!pending.isEmpty()) {
                Path current = pending.pop();
                Map<String, Object> attributes;
                try {
                    attributes = Files.readAttributes(current, "unix:mode,size,ino,dev", NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue; // deleted meanwhile (the item was collected before the lock was taken)
                }
                int mode = (Integer) attributes.get("mode");
                int type = mode & 0170000;
                if (type == 0040000) {
                    try (DirectoryStream<Path> children = Files.newDirectoryStream(current)) {
                        children.forEach(pending::push);
                    }
                } else if (type == 0100000 && (Long) attributes.get("size") >= MIN_SIZE) {
                    if ((mode & 0200) != 0) {
                        skipped++; // writable: not canonical, perhaps still being written
                    } else {
                        file(current, attributes);
                    }
                }
            }
        }

        private void file(Path file, Map<String, Object> attributes) throws IOException {
            long size = (Long) attributes.get("size");
            Hash hash = Hash.ofNar(file, HashAlgorithm.SHA256);
            Path link = linksDir.resolve(hash.format(HashFormat.BASE32));
            while (true) {
                Map<String, Object> existing;
                try {
                    existing = Files.readAttributes(link, "unix:size,ino,dev", NOFOLLOW_LINKS);
                } catch (NoSuchFileException absent) {
                    try {
                        Files.createLink(link, file);
                        return; // the first copy: it is the entry now
                    } catch (FileAlreadyExistsException raced) {
                        continue;
                    } catch (FileSystemException e) {
                        if (doNotLink(e)) {
                            skipped++;
                            return;
                        }
                        throw e;
                    }
                }
                if (existing.get("ino").equals(attributes.get("ino")) && existing.get("dev").equals(attributes.get("dev"))) {
                    return; // already linked
                }
                if (!existing.get("size").equals(size)) {
                    Files.deleteIfExists(link); // a corrupt entry: "removing corrupted link"
                    continue;
                }
                break;
            }
            Path temp = storeDir.resolve(".tmp-link-" + ProcessHandle.current().pid() + "-"
                + Integer.toUnsignedString(ThreadLocalRandom.current().nextInt()));
            try {
                Files.createLink(temp, link);
            } catch (FileSystemException e) {
                if (doNotLink(e)) {
                    skipped++;
                    return;
                }
                throw e;
            }
            Path parent = file.getParent();
            boolean inStoreDir = parent.equals(storeDir);
            Set<PosixFilePermission> before = Files.getPosixFilePermissions(parent, NOFOLLOW_LINKS);
            try {
                if (!inStoreDir && !before.contains(PosixFilePermission.OWNER_WRITE)) {
                    Files.setPosixFilePermissions(parent, WRITABLE_DIR);
                }
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(temp);
                if (!inStoreDir) {
                    Files.setPosixFilePermissions(parent, before);
                    Files.setLastModifiedTime(parent, Canonicaliser.CANONICAL_MTIME);
                }
            }
            linked++;
            saved += size;
            progress.progress(file.toString(), linked, saved);
        }

        /** EMLINK (too many links) and ENOSPC mean "do not link this file", as in the daemon. */
        private static boolean doNotLink(FileSystemException e) {
            String reason = e.getReason();
            return reason != null && (reason.contains("Too many links") || reason.contains("No space left"));
        }
    }
}
