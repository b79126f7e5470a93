package org.granary.verify.cache;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.granary.store.PathInfo;
import org.granary.store.StoreDir;
import org.granary.store.StorePath;
import org.granary.verify.Substitute;
import org.granary.verify.SubstituteException;
import org.granary.verify.Substituter;

/**
 * A binary cache read as a {@link Substituter}: a directory ({@code file:///DIR}) or a web server
 * ({@code http(s)://HOST[/prefix]}) holding {@code nix-cache-info}, {@code HASH.narinfo} files and
 * compressed NARs, as {@code nix copy --to} and {@code guix publish} make them (store-facts.md §10).
 *
 * <p>A lookup refuses, with a {@link SubstituteException} naming the reason, a cache whose
 * {@code nix-cache-info} names another store dir, a narinfo that is malformed, made for another path or
 * store dir, offers no file in a compression Granary reads, or is not signed by a trusted key (unless
 * unsigned substitutes were allowed explicitly). A substitute's NAR is checked while it is read: the
 * compressed file against {@code FileHash}/{@code FileSize} when given, the NAR against
 * {@code NarHash}/{@code NarSize}; a mismatch is a {@link ContentMismatchException} at the end of the
 * stream (or as soon as it is too long). The caller still compares the NAR hash with its own database.
 *
 * <p>Safe to share between threads; HTTP goes through one JDK {@code HttpClient}, made on first use.
 */
public final class BinaryCache implements Substituter {
    /** The largest narinfo read: thousands of references fit many times over. */
    static final int MAX_NARINFO = 4 << 20;

    private final CacheTransport transport;
    private final String storeDir;
    private final TrustedKeys trustedKeys;
    private final boolean allowUnsigned;
    /** What {@code nix-cache-info} says is wrong with this cache; read once, on the first lookup. */
    private Optional<String> cacheInfoProblem;

    private BinaryCache(CacheTransport transport, String storeDir, TrustedKeys trustedKeys, boolean allowUnsigned) {
        this.transport = transport;
        this.storeDir = storeDir;
        this.trustedKeys = trustedKeys;
        this.allowUnsigned = allowUnsigned;
    }

    /**
     * Returns a cache that accepts only substitutes signed by a trusted key. Nothing is fetched yet.
     *
     * @param uri {@code file:///DIR}, {@code http://HOST[/prefix]} or {@code https://HOST[/prefix]}
     * @param storeDir the logical store dir of the store being repaired, such as {@code /gnu/store}
     * @param trustedKeys the keys whose signatures are accepted
     * @return the cache
     * @throws IllegalArgumentException if the URI's scheme is not one of those, or the store dir is
     *     not absolute and canonical
     */
    public static BinaryCache open(String uri, String storeDir, TrustedKeys trustedKeys) {
        return create(uri, storeDir, trustedKeys, false);
    }

    /**
     * Returns a cache that accepts substitutes without a trusted signature: for a cache the caller trusts
     * by other means (a local directory it wrote itself). The NAR is still checked against the narinfo
     * and by the caller against its database.
     *
     * @param uri as for {@link #open}
     * @param storeDir as for {@link #open}
     * @return the cache
     * @throws IllegalArgumentException as for {@link #open}
     */
    public static BinaryCache openAllowingUnsigned(String uri, String storeDir) {
        return create(uri, storeDir, TrustedKeys.none(), true);
    }

    private static BinaryCache create(String uri, String storeDir, TrustedKeys trustedKeys, boolean allowUnsigned) {
        // A valid store path of the dir proves the dir is absolute and canonical.
        Objects.requireNonNull(trustedKeys, "trustedKeys");
        StoreDir.of(storeDir, java.nio.file.Path.of("/"));
        return new BinaryCache(CacheTransport.of(uri), storeDir, trustedKeys, allowUnsigned);
    }

    /**
     * Returns the cache's URI.
     *
     * @return such as {@code file:///srv/cache}, without a trailing {@code /}
     */
    @Override
    public String uri() {
        return transport.uri();
    }

    /**
     * Looks an item up: reads {@code nix-cache-info} (on the first lookup) and {@code HASH.narinfo},
     * and checks the narinfo and its signatures.
     *
     * @param path the item wanted, of this cache's store dir
     * @return the substitute, or empty if the cache has no narinfo for it
     * @throws SubstituteException if the cache serves another store dir, or the narinfo is malformed,
     *     for another path, offers no readable file, or is not signed by a trusted key
     * @throws IOException if the cache cannot be read
     */
    @Override
    public Optional<Substitute> lookup(StorePath path) throws IOException {
        if (!path.storeDir().equals(storeDir)) {
            throw new IllegalArgumentException(path + " is not in store dir " + storeDir + " of cache " + uri());
        }
        Optional<String> problem = cacheInfoProblem();
        if (problem.isPresent()) {
            throw new SubstituteException(path, problem.get());
        }
        String name = path.hashPart() + ".narinfo";
        Optional<InputStream> in = transport.open(name);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        String source = transport.urlOf(name);
        NarInfo info;
        try (InputStream stream = in.get()) {
            info = NarInfo.parse(readText(stream, source), storeDir, source);
        } catch (NarInfoFormatException e) {
            throw new SubstituteException(path, e.getMessage(), e);
        }
        if (!info.storePath().equals(path)) {
            throw new SubstituteException(path, source + ": the narinfo is for " + info.storePath());
        }
        if (!allowUnsigned) {
            Optional<String> refusal = trustedKeys.refusal(info);
            if (refusal.isPresent()) {
                throw new SubstituteException(path, source + ": no valid signature by a trusted key: "
                    + refusal.get());
            }
        }
        List<String> unreadable = new ArrayList<>();
        for (NarInfo.NarFile file : info.files()) {
            Optional<Compression> compression = Compression.forName(file.compression());
            if (compression.isPresent()) {
                return Optional.of(new CachedSubstitute(info, file, compression.get()));
            }
            unreadable.add(file.url() + " (" + file.compression() + ")");
        }
        throw new SubstituteException(path, source + ": no file in a compression Granary reads: "
            + String.join(", ", unreadable));
    }

    /** Reads and checks {@code nix-cache-info} once; a missing file means the URI is not a cache. */
    private synchronized Optional<String> cacheInfoProblem() throws IOException {
        if (cacheInfoProblem == null) {
            String source = transport.urlOf("nix-cache-info");
            Optional<InputStream> in = transport.open("nix-cache-info");
            if (in.isEmpty()) {
                throw new IOException(source + ": no such file: " + uri() + " is not a binary cache");
            }
            String text;
            try (InputStream stream = in.get()) {
                text = readText(stream, source);
            }
            cacheInfoProblem = storeDirProblem(text, source);
        }
        return cacheInfoProblem;
    }

    private Optional<String> storeDirProblem(String text, String source) {
        for (String line : text.split("\n")) {
            if (line.startsWith("StoreDir:")) {
                String cacheStoreDir = line.substring("StoreDir:".length()).strip();
                if (!cacheStoreDir.equals(storeDir)) {
                    return Optional.of(source + ": the cache serves store dir " + cacheStoreDir
                        + ", not this store's " + storeDir);
                }
            }
        }
        // Nix accepts a cache that does not say; every narinfo's StorePath is checked anyway.
        return Optional.empty();
    }

    /** Reads a small text file (a narinfo, nix-cache-info): bounded, and strictly UTF-8. */
    private static String readText(InputStream in, String source) throws IOException {
        byte[] bytes = in.readNBytes(MAX_NARINFO + 1);
        if (bytes.length > MAX_NARINFO) {
            throw new NarInfoFormatException(source, 0, null, "larger than " + MAX_NARINFO + " bytes");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new NarInfoFormatException(source, 0, null, "not UTF-8 text");
        }
    }

    /** One narinfo's item, with the file chosen to fetch. */
    private final class CachedSubstitute implements Substitute {
        private final NarInfo info;
        private final NarInfo.NarFile file;
        private final Compression compression;

        CachedSubstitute(NarInfo info, NarInfo.NarFile file, Compression compression) {
            this.info = info;
            this.file = file;
            this.compression = compression;
        }

        @Override
        public PathInfo info() {
            return info.toPathInfo();
        }

        @Override
        public InputStream openNar() throws IOException {
            String url = transport.urlOf(file.url());
            Optional<InputStream> raw = transport.open(file.url());
            if (raw.isEmpty()) {
                throw new IOException(url + ": no such file, though the narinfo of " + info.storePath()
                    + " names it");
            }
            InputStream compressed = new CheckingInputStream(new BufferedInputStream(raw.get(), 64 * 1024),
                file.fileHash(), file.fileSize(), url, "FileHash", "FileSize", null);
            InputStream nar;
            try {
                nar = compression.decompress(compressed);
            } catch (IOException e) {
                compressed.close();
                throw new IOException(url + " (" + compression + "): " + e.getMessage(), e);
            }
            return new CheckingInputStream(nar, info.narHash(), info.narSize(), url + " (" + compression
                + ", decompressed)", "NarHash", "NarSize", compressed);
        }

        @Override
        public String toString() {
            return transport.urlOf(file.url());
        }
    }
}
