package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.granary.nar.NarDumper;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.PathInfo;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;

/** Helpers of the gc tests: roots, whole-tree snapshots and the soundness check of a store. */
final class GcFixtures {
    private GcFixtures() {
    }

    /** A direct root: {@code gcroots/NAME -> path}. */
    static void root(StoreConfig config, String name, StorePath path) throws IOException {
        Path link = config.physicalStateDir().resolve("gcroots").resolve(name);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, Path.of(path.toString()));
    }

    /** Every entry under {@code dir} (not following links) with its type, size and mtime: a fingerprint. */
    static SortedMap<String, String> tree(Path dir) throws IOException {
        SortedMap<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) walk::iterator) {
                var attributes = Files.readAttributes(path, "unix:mode,size,nlink,ino", NOFOLLOW_LINKS);
                String kind = Files.isSymbolicLink(path) ? "-> " + Files.readSymbolicLink(path) : attributes.toString();
                entries.put(dir.relativize(path).toString(), kind + " " + Files.getLastModifiedTime(path, NOFOLLOW_LINKS));
            }
        }
        return entries;
    }

    /**
     * The store is sound: the database is closed under references, and every valid item is on disk with
     * its registered NAR hash and size.
     */
    static void assertSound(StoreConfig config, StoreDatabase database, String context) throws IOException {
        List<StorePath> valid = List.copyOf(database.validPaths());
        for (StorePath path : valid) {
            for (StorePath reference : database.references(path)) {
                assertTrue(database.isValid(reference), context + ": " + path + " refers to " + reference
                    + ", which is not valid");
            }
            Path files = config.storeDir().physicalPath(path);
            assertTrue(Files.exists(files, NOFOLLOW_LINKS), context + ": " + path + " is valid but missing");
            PathInfo info = database.pathInfo(path).orElseThrow();
            long size = new NarDumper().dump(files, OutputStream.nullOutputStream());
            assertEquals(info.narSize(), size, context + ": NAR size of " + path);
            assertEquals(info.narHash(), Hash.ofNar(files, HashAlgorithm.SHA256), context + ": NAR hash of " + path);
        }
    }
}
