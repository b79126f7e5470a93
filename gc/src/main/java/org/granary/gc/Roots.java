package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.granary.store.InvalidStorePathException;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;

/**
 * The permanent roots of a store as the daemon finds them (store-facts.md §8), and the stale ones.
 *
 * <p>The directories {@code gcroots/}, {@code manifests/} and {@code profiles/} of the state dir are walked
 * (not following symlinked directories). A symlink whose target is in the store dir is a direct root (a
 * target inside an item roots the item); a symlink pointing elsewhere is an indirect root: its target,
 * resolved against the link's directory, is read as a link in turn, and if that names the store the item
 * is a root. A regular file roots the item of its name. Targets that are gone or name no valid path are
 * stale roots: reported, and never removed (the daemon removes stale links under {@code gcroots/auto},
 * even while only listing, which has turned live profiles into garbage). Finding roots changes nothing.
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param roots the roots found, in the order of the walk
 * @param stale the stale roots found
 */
public record Roots(List<GcRoot> roots, List<StaleRoot> stale) {
    private static final String[] ROOT_DIRS = {"gcroots", "manifests", "profiles"};

    /**
     * Copies the lists.
     *
     * @param roots the roots found, in the order of the walk
     * @param stale the stale roots found
     *
     * @throws NullPointerException if one is null
     */
    public Roots {
        roots = List.copyOf(roots);
        stale = List.copyOf(stale);
    }

    /**
     * Finds the permanent roots of a store.
     *
     * @param config where the store and its state dir are
     * @param valid says whether a store path is valid; roots naming others are stale
     * @return the roots and the stale roots
     * @throws IOException if a roots directory cannot be read for a reason other than a missing entry or a
     *     denied access (which make the entry a stale root)
     */
    static Roots find(StoreConfig config, Predicate<StorePath> valid) throws IOException {
        Finder finder = new Finder(config.storeDir().logical(), valid);
        for (String name : ROOT_DIRS) {
            Path dir = config.physicalStateDir().resolve(name);
            if (Files.exists(dir, NOFOLLOW_LINKS)) {
                finder.walk(dir);
            }
        }
        return new Roots(finder.roots, finder.stale);
    }

    /** One walk's state. */
    private static final class Finder {
        final String storeDir;
        final Predicate<StorePath> valid;
        final List<GcRoot> roots = new ArrayList<>();
        final List<StaleRoot> stale = new ArrayList<>();

        Finder(String storeDir, Predicate<StorePath> valid) {
            this.storeDir = storeDir;
            this.valid = valid;
        }

        void walk(Path top) throws IOException {
            ArrayDeque<Path> pending = new ArrayDeque<>();
            pending.push(top);
            while (!pending.isEmpty()) {
                Path entry = pending.pop();
                try {
                    BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class,
                        NOFOLLOW_LINKS);
                    if (attributes.isDirectory()) {
                        List<Path> children = new ArrayList<>();
                        try (DirectoryStream<Path> stream = Files.newDirectoryStream(entry)) {
                            stream.forEach(children::add);
                        }
                        children.sort(null);
                        for (int i = children.size() - 1; i >= 0; i--) {
                            pending.push(children.get(i));
                        }
                    } else if (attributes.isSymbolicLink()) {
                        link(entry);
                    } else if (attributes.isRegularFile()) {
                        file(entry);
                    }
                } catch (NoSuchFileException | AccessDeniedException | NotDirectoryException e) {
                    stale.add(new StaleRoot(entry.toString(), "?", "cannot be read: " + e.getClass().getSimpleName()));
                }
            }
        }

        private void link(Path link) throws IOException {
            String target = Files.readSymbolicLink(link).toString();
            if (inStore(target)) {
                found(link.toString(), target, GcRoot.Kind.DIRECT);
                return;
            }
            Path outer = link.getParent().resolve(target);
            if (!Files.exists(outer, NOFOLLOW_LINKS)) {
                stale.add(new StaleRoot(link.toString(), outer.toString(), "target is gone"));
                return;
            }
            if (!Files.isSymbolicLink(outer)) {
                return; // a link to a directory of roots or to a plain file: not a root by itself
            }
            String target2 = Files.readSymbolicLink(outer).toString();
            if (inStore(target2)) {
                found(outer.toString(), target2, GcRoot.Kind.INDIRECT);
            } else {
                stale.add(new StaleRoot(outer.toString(), target2, "does not point into " + storeDir));
            }
        }

        private void file(Path file) {
            StorePath path = parse(storeDir + "/" + file.getFileName());
            if (path != null && valid.test(path)) {
                roots.add(new GcRoot(file.toString(), path, GcRoot.Kind.DIRECT));
            }
        }

        private void found(String source, String target, GcRoot.Kind kind) {
            StorePath path = parse(target);
            if (path == null) {
                stale.add(new StaleRoot(source, target, "not a store path"));
            } else if (!valid.test(path)) {
                stale.add(new StaleRoot(source, target, "not a valid store path"));
            } else {
                roots.add(new GcRoot(source, path, kind));
            }
        }

        private boolean inStore(String target) {
            return target.startsWith(storeDir + "/");
        }

        /** The store item a path in the store dir is in (a file inside an item roots the item), or null. */
        private StorePath parse(String target) {
            return GarbageCollector.storeItem(target, storeDir);
        }
    }
}
