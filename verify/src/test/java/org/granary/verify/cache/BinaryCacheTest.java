package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import org.granary.nar.NarDumper;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.NarHashMismatchException;
import org.granary.store.PathInfo;
import org.granary.store.StorePath;
import org.granary.verify.Substitute;
import org.granary.verify.SubstituteException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BinaryCacheTest {
    private static final String STORE = "/gnu/store";
    private static final SigningKey KEY = SigningKey.generate("test-cache-1", new SecureRandom());

    @TempDir
    Path dir;
    private Path cache;
    private PathInfo info;
    private PathInfo other;
    private Path item;

    @BeforeEach
    void publishTwoItems() throws IOException {
        cache = dir.resolve("cache");
        item = dir.resolve("item");
        Files.createDirectories(item.resolve("bin"));
        Files.writeString(item.resolve("bin/hello"), "#!/bin/sh\necho hello\n".repeat(200));
        Files.writeString(item.resolve("README"), "a readme\n");
        Path otherItem = Files.writeString(dir.resolve("other"), "another item\n");
        StorePath otherPath = new StorePath(STORE, "1".repeat(32), "other");
        other = PathInfo.of(otherPath, Hash.ofNar(otherItem, HashAlgorithm.SHA256), nar(otherItem).length,
            List.of(), 0);
        info = PathInfo.of(new StorePath(STORE, "0".repeat(32), "hello"), Hash.ofNar(item, HashAlgorithm.SHA256),
            nar(item).length, List.of(otherPath), 0).withDeriver(new StorePath(STORE, "2".repeat(32), "hello.drv"));
        // zstd: quick to set up; every compression has its own test below.
        CacheWriter writer = CacheWriter.open(cache, STORE, Compression.ZSTD, KEY);
        writer.write(info, item);
        writer.write(other, otherItem);
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void aPublishedItemReadsBackAsItsExactNarInEveryCompression(Compression compression) throws IOException {
        Path each = dir.resolve("cache-" + compression);
        NarInfo written = CacheWriter.open(each, STORE, compression, KEY).write(info, item);
        assertTrue(written.files().get(0).url().endsWith(".nar" + compression.extension()), written.toString());
        Substitute substitute = trusting(each).lookup(info.path()).orElseThrow();
        assertEquals(info.withSignatures(List.of(KEY.sign(info))), substitute.info());
        assertArrayEquals(nar(item), readAll(substitute));
    }

    @Test
    void anItemTheCacheDoesNotHaveIsEmpty() throws IOException {
        assertEquals(Optional.empty(), trusting(cache).lookup(new StorePath(STORE, "3".repeat(32), "absent")));
    }

    @Test
    void anUnsignedNarInfoIsRefusedUnlessAllowed() throws IOException {
        Path unsigned = dir.resolve("unsigned");
        CacheWriter.open(unsigned, STORE, Compression.GZIP, null).write(info, item);
        SubstituteException e = assertThrows(SubstituteException.class, () -> trusting(unsigned).lookup(info.path()));
        assertTrue(e.getMessage().contains("no signature"), e.getMessage());
        Substitute allowed = BinaryCache.openAllowingUnsigned(uri(unsigned), STORE).lookup(info.path()).orElseThrow();
        assertArrayEquals(nar(item), readAll(allowed));
    }

    @Test
    void aSignatureWithAFlippedBitIsRefused() throws IOException {
        Path narinfo = narinfoOf(info);
        String text = Files.readString(narinfo);
        int at = text.indexOf("Sig: test-cache-1:") + "Sig: test-cache-1:".length() + 10;
        char flipped = text.charAt(at) == 'A' ? 'B' : 'A';
        Files.writeString(narinfo, text.substring(0, at) + flipped + text.substring(at + 1));
        SubstituteException e = assertThrows(SubstituteException.class, () -> trusting(cache).lookup(info.path()));
        assertTrue(e.getMessage().contains("trusted key \"test-cache-1\" does not verify"), e.getMessage());
    }

    @Test
    void aSignatureByAnUntrustedKeyIsRefusedNamingIt() {
        SigningKey stranger = SigningKey.generate("stranger-1", new SecureRandom());
        BinaryCache cacheTrustingAnother = BinaryCache.open(uri(cache), STORE,
            TrustedKeys.of(List.of(stranger.verifyingKey())));
        SubstituteException e = assertThrows(SubstituteException.class, () -> cacheTrustingAnother.lookup(info.path()));
        assertTrue(e.getMessage().contains("untrusted key \"test-cache-1\""), e.getMessage());
        assertEquals(info.path(), e.path());
    }

    @Test
    void aNarOfTheWrongHashIsRefusedAtItsEnd() throws IOException {
        // The other item's NAR under this item's name: the narinfo's unsigned FileHash/FileSize are
        // removed, so that the NarHash check is the one that speaks.
        Path narinfo = narinfoOf(info);
        String text = Files.readString(narinfo).replaceAll("(?m)^File(Hash|Size): .*\n", "");
        Files.writeString(narinfo, text);
        Path narFile = cache.resolve(NarInfo.parse(text, STORE, "t").files().get(0).url());
        Files.copy(cache.resolve(NarInfo.parse(Files.readString(narinfoOf(other)), STORE, "t").files().get(0).url()),
            narFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Substitute substitute = trusting(cache).lookup(info.path()).orElseThrow();
        ContentMismatchException e = assertThrows(ContentMismatchException.class, () -> readAll(substitute));
        assertEquals("NarSize", e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(narFile.getFileName().toString()), e.getMessage());
    }

    @Test
    void aNarWithTheRightSizeButOtherBytesIsRefusedByItsHash() throws IOException {
        Path narinfo = narinfoOf(info);
        String text = Files.readString(narinfo).replaceAll("(?m)^File(Hash|Size): .*\n", "")
            .replace("Compression: zstd", "Compression: none");
        Files.writeString(narinfo, text);
        byte[] changed = nar(item);
        changed[changed.length - 30] ^= 1;
        Files.write(cache.resolve(NarInfo.parse(text, STORE, "t").files().get(0).url()), changed);
        Substitute substitute = trusting(cache).lookup(info.path()).orElseThrow();
        ContentMismatchException e = assertThrows(ContentMismatchException.class, () -> readAll(substitute));
        assertEquals("NarHash", e.field(), e.getMessage());
        assertEquals(NarInfo.typed(info.narHash()), e.expected());
    }

    @Test
    void aTruncatedNarFileIsRefused() throws IOException {
        Path narFile = cache.resolve(NarInfo.parse(Files.readString(narinfoOf(info)), STORE, "t").files().get(0).url());
        byte[] bytes = Files.readAllBytes(narFile);
        Files.write(narFile, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Substitute substitute = trusting(cache).lookup(info.path()).orElseThrow();
        IOException e = assertThrows(IOException.class, () -> readAll(substitute));
        assertTrue(e.getMessage().contains(narFile.getFileName().toString()), e.getMessage());
        // Without FileHash/FileSize, the decoder or the NarSize check finds the cut.
        Files.writeString(narinfoOf(info), Files.readString(narinfoOf(info)).replaceAll("(?m)^File(Hash|Size): .*\n", ""));
        Substitute unchecked = trusting(cache).lookup(info.path()).orElseThrow();
        IOException e2 = assertThrows(IOException.class, () -> readAll(unchecked));
        assertTrue(e2.getMessage().contains(narFile.getFileName().toString()), e2.getMessage());
    }

    @Test
    void aCacheOfAnotherStoreDirIsRefusedNamingBoth() throws IOException {
        Files.writeString(cache.resolve("nix-cache-info"), "StoreDir: /nix/store\nWantMassQuery: 1\n");
        SubstituteException e = assertThrows(SubstituteException.class, () -> trusting(cache).lookup(info.path()));
        assertTrue(e.getMessage().contains("/nix/store") && e.getMessage().contains("/gnu/store"), e.getMessage());
        assertThrows(IOException.class, () -> CacheWriter.open(cache, STORE, Compression.XZ, null));
    }

    @Test
    void aNarInfoOfAnotherPathOrStoreDirIsRefused() throws IOException {
        String text = Files.readString(narinfoOf(other));
        Files.writeString(narinfoOf(info), text);
        SubstituteException e = assertThrows(SubstituteException.class, () -> trusting(cache).lookup(info.path()));
        assertTrue(e.getMessage().contains("the narinfo is for " + other.path()), e.getMessage());
        Files.writeString(narinfoOf(info), text.replace("/gnu/store/", "/nix/store/"));
        SubstituteException e2 = assertThrows(SubstituteException.class, () -> trusting(cache).lookup(info.path()));
        assertTrue(e2.getCause() instanceof NarInfoFormatException, e2.getMessage());
    }

    @Test
    void aNarInfoNamingAFileOutsideTheCacheIsRefused() throws IOException {
        Files.writeString(narinfoOf(info), Files.readString(narinfoOf(info))
            .replaceFirst("(?m)^URL: .*$", "URL: ../outside.nar.xz"));
        Substitute substitute = trusting(cache).lookup(info.path()).orElseThrow();
        IOException e = assertThrows(IOException.class, substitute::openNar);
        assertTrue(e.getMessage().contains("only a plain relative path"), e.getMessage());
    }

    @Test
    void aDirectoryWithoutNixCacheInfoIsNotACache() throws IOException {
        Files.delete(cache.resolve("nix-cache-info"));
        IOException e = assertThrows(IOException.class, () -> trusting(cache).lookup(info.path()));
        assertTrue(e.getMessage().contains("not a binary cache"), e.getMessage());
    }

    @Test
    void aCorruptItemIsNotPublished() throws IOException {
        Files.writeString(item.resolve("README"), "changed\n");
        assertThrows(NarHashMismatchException.class,
            () -> CacheWriter.open(dir.resolve("fresh"), STORE, Compression.ZSTD, KEY).write(info, item));
        try (var files = Files.list(dir.resolve("fresh/nar"))) {
            assertEquals(0, files.count());
        }
        assertThrows(NoSuchFileException.class, () -> Files.readString(dir.resolve("fresh").resolve(
            info.path().hashPart() + ".narinfo")));
    }

    @Test
    void aCacheServedOverHttpReadsAsTheDirectory() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/prefix/", exchange -> {
            Path file = cache.resolve(exchange.getRequestURI().getPath().substring("/prefix/".length()));
            try (exchange) {
                if (!Files.isRegularFile(file)) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, Files.size(file));
                try (OutputStream out = exchange.getResponseBody()) {
                    Files.copy(file, out);
                }
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/prefix";
            BinaryCache http = BinaryCache.open(url, STORE, TrustedKeys.of(List.of(KEY.verifyingKey())));
            assertEquals(url, http.uri());
            assertArrayEquals(nar(item), readAll(http.lookup(info.path()).orElseThrow()));
            assertEquals(Optional.empty(), http.lookup(new StorePath(STORE, "3".repeat(32), "absent")));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void onlyFileAndHttpCachesAreKnown() {
        assertThrows(IllegalArgumentException.class, () -> BinaryCache.open("s3://bucket", STORE, TrustedKeys.none()));
        assertThrows(IllegalArgumentException.class, () -> BinaryCache.open("file://host/dir", STORE, TrustedKeys.none()));
    }

    private BinaryCache trusting(Path directory) {
        return BinaryCache.open(uri(directory), STORE, TrustedKeys.of(List.of(KEY.verifyingKey())));
    }

    private static String uri(Path directory) {
        return "file://" + directory.toAbsolutePath();
    }

    private Path narinfoOf(PathInfo of) {
        return cache.resolve(of.path().hashPart() + ".narinfo");
    }

    private static byte[] readAll(Substitute substitute) throws IOException {
        try (InputStream in = substitute.openNar()) {
            return in.readAllBytes();
        }
    }

    private static byte[] nar(Path tree) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new NarDumper().dump(tree, out);
        return out.toByteArray();
    }
}
