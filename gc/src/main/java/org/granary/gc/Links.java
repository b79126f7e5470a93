package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code .links} directory of a store dir, where deduplication keeps one hard link per distinct file
 * contents ({@code .links/<nix-base32 SHA-256 of the file's NAR>}).
 *
 * <p>Stateless; safe to call from any thread.
 */
final class Links {
    /** The directory's name in the store dir. */
    static final String DIR = ".links";

    private Links() {
    }

    /**
     * What a pass over {@code .links} found.
     *
     * @param removed entries removed because nothing else linked to them
     * @param bytesFreed their sizes
     * @param savings the bytes the remaining links save: for each entry, its size times its links beyond
     *     the entry itself and one item
     */
    record Pass(long removed, long bytesFreed, long savings) {
    }

    /**
     * Removes the entries with a link count of 1 (no item uses them any more) and measures what the rest
     * save, as the daemon's {@code removeUnusedLinks}. Call it with the GC lock held exclusively, so that
     * no deduplication links to an entry as it goes.
     *
     * @param storeDir the physical store dir
     * @return what it removed and what the links save
     * @throws IOException if the directory cannot be read or an entry removed
     */
    static Pass removeUnused(Path storeDir) throws IOException {
        Path dir = storeDir.resolve(DIR);
        long removed = 0;
        long freed = 0;
        long savings = 0;
        if (!Files.isDirectory(dir, NOFOLLOW_LINKS)) {
            return new Pass(0, 0, 0);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Map<String, Object> attributes;
                try {
                    attributes = Files.readAttributes(entry, "unix:nlink,size", NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                int links = (Integer) attributes.get("nlink");
                long size = (Long) attributes.get("size");
                if (links <= 1) {
                    if (Files.deleteIfExists(entry)) {
                        removed++;
                        freed += size;
                    }
                } else {
                    savings += (links - 2L) * size;
                }
            }
        }
        return new Pass(removed, freed, savings);
    }
}
