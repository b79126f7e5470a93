package org.granary.verify.cache;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.HashingOutputStream;
import org.granary.store.NarHashMismatchException;
import org.granary.store.PathInfo;
import org.granary.store.StoreDir;

/**
 * Writes a binary cache in a directory, as {@code nix copy --to file://DIR} does: {@code nix-cache-info},
 * for each item its compressed NAR as {@code nar/FILEHASH.nar.EXT} and {@code HASH.narinfo}, signed
 * with a Nix key ({@code Sig}) when one is given. Nix and Granary read the result as a substituter.
 *
 * <p>Each file is written under a temporary name, flushed to disk and renamed, the NAR before its
 * narinfo, so a reader never sees a narinfo without its NAR or a partial file. An item is archived from
 * its files and published only if its NAR hash and size are those of its {@link PathInfo} (the database's
 * word): a corrupt item is not spread.
 *
 * <p>Safe to share between threads (each write has its own temporary files).
 */
public final class CacheWriter {
    private static final String CACHE_INFO = "nix-cache-info";

    private final Path directory;
    private final String storeDir;
    private final Compression compression;
    private final SigningKey key;

    private CacheWriter(Path directory, String storeDir, Compression compression, SigningKey key) {
        this.directory = directory;
        this.storeDir = storeDir;
        this.compression = compression;
        this.key = key;
    }

    /**
     * Opens a cache directory for writing, creating it and its {@code nix-cache-info} if needed.
     *
     * @param directory the cache's directory
     * @param storeDir the logical store dir of the items, such as {@code /gnu/store}
     * @param compression how NARs are compressed ({@link Compression#XZ} is Nix's default)
     * @param key the key that signs each narinfo, or null for unsigned narinfos
     * @return the writer
     * @throws IOException if the directory cannot be created, or its {@code nix-cache-info} names another
     *     store dir
     */
    public static CacheWriter open(Path directory, String storeDir, Compression compression, SigningKey key)
            throws IOException {
        Objects.requireNonNull(compression, "compression");
        StoreDir.of(storeDir, Path.of("/"));
        Files.createDirectories(directory.resolve("nar"));
        Path info = directory.resolve(CACHE_INFO);
        String expected = "StoreDir: " + storeDir;
        if (Files.exists(info)) {
            List<String> lines = Files.readAllLines(info, StandardCharsets.UTF_8);
            for (String line : lines) {
                if (line.startsWith("StoreDir:") && !line.equals(expected)) {
                    throw new IOException(info + ": the cache is for " + line.substring(9).strip()
                        + ", not store dir " + storeDir);
                }
            }
        } else {
            writeAtomically(info, (expected + "\nWantMassQuery: 0\nPriority: 50\n").getBytes(StandardCharsets.UTF_8));
        }
        return new CacheWriter(directory, storeDir, compression, key);
    }

    /**
     * Publishes one item: archives its files, compresses the NAR into {@code nar/}, and writes its
     * narinfo (replacing an earlier one).
     *
     * @param info the item's information, from the database: its NAR hash and size are checked against
     *     the files
     * @param item where the item's files are on this machine
     * @return the narinfo written
     * @throws NarHashMismatchException if the files do not archive to the recorded NAR hash and size;
     *     nothing is published
     * @throws IllegalArgumentException if the item is of another store dir
     * @throws IOException if the item cannot be read or the cache written
     */
    public NarInfo write(PathInfo info, Path item) throws IOException {
        if (!info.path().storeDir().equals(storeDir)) {
            throw new IllegalArgumentException(info.path() + " is not in store dir " + storeDir);
        }
        Path temp = Files.createTempFile(directory.resolve("nar"), ".granary-", ".tmp");
        try {
            HashingOutputStream file = new HashingOutputStream(
                new BufferedOutputStream(Files.newOutputStream(temp), 64 * 1024), HashAlgorithm.SHA256);
            NarDigest nar;
            try (OutputStream compressed = compression.compress(file)) {
                nar = new NarDumper().dump(item, compressed, HashAlgorithm.SHA256.newDigest());
            }
            Hash narHash = Hash.of(HashAlgorithm.SHA256, nar.digest());
            if (!narHash.equals(info.narHash()) || nar.narSize() != info.narSize()) {
                throw new NarHashMismatchException(info.path(), info.narHash(), info.narSize(), narHash,
                    nar.narSize());
            }
            Hash fileHash = file.hash();
            String url = "nar/" + fileHash.format(HashFormat.BASE32) + ".nar"
                + compression.extension();
            force(temp);
            move(temp, directory.resolve(url));
            List<String> sigs = new ArrayList<>();
            if (key != null) {
                sigs.add(key.sign(info));
            }
            NarInfo narInfo = new NarInfo(info.path(),
                List.of(new NarInfo.NarFile(url, compression.fieldName(), fileHash, file.count())), narHash,
                nar.narSize(), info.references(), info.deriver(), null, sigs, null, info.contentAddress());
            writeAtomically(directory.resolve(info.path().hashPart() + ".narinfo"),
                narInfo.toString().getBytes(StandardCharsets.UTF_8));
            return narInfo;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path temp = Files.createTempFile(target.getParent(), ".granary-", ".tmp");
        try {
            Files.write(temp, bytes);
            force(temp);
            move(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void force(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        Files.setPosixFilePermissions(from, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically", e);
        }
    }
}
