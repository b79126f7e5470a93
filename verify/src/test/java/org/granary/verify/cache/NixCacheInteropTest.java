package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.granary.nar.testing.NixOracle;
import org.granary.store.Hash;
import org.granary.store.PathInfo;
import org.granary.store.StorePath;
import org.granary.verify.Substitute;
import org.granary.verify.SubstituteException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Binary caches against real Nix (nix-bin 2.8): caches written by {@code nix copy --to file://…} are
 * read by Granary, and caches written by Granary are copied from by {@code nix copy --from}, signatures
 * checked on both sides.
 */
class NixCacheInteropTest {
    private static final String STORE = NixOracle.STORE_DIR;

    /** One Nix store for the whole class: setting it up costs more than each test. */
    @TempDir
    static Path dir;
    private static NixOracle nix;
    private static List<String> paths;
    /** Each test's own directory under {@link #dir}. */
    private Path work;

    @BeforeAll
    static void itemsInNixsStore() throws IOException {
        NixOracle.assumeAvailable();
        nix = NixOracle.open(dir.resolve("nix"));
        Path tree = Files.createDirectories(dir.resolve("tree/bin"));
        Files.writeString(tree.resolve("hello"), "#!/bin/sh\necho hello\n");
        Files.setPosixFilePermissions(tree.resolve("hello"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(dir.resolve("tree/link"), Path.of("bin/hello"));
        byte[] large = new byte[100_000];
        new Random(7).nextBytes(large);
        Files.write(dir.resolve("tree/data"), large);
        String treePath = nix.addSource(dir.resolve("tree"));
        String text = nix.toFile("uses-tree", "exec " + treePath + "/bin/hello\n", treePath);
        paths = List.of(treePath, text);
    }

    @BeforeEach
    void ownDirectory() throws IOException {
        work = Files.createTempDirectory(dir, "test-");
    }

    @ParameterizedTest
    @ValueSource(strings = {"xz", "bzip2", "gzip", "zstd", "lzip", "none"})
    void aCacheWrittenByNixCopyIsReadWithItsSignaturesAndExactNars(String compression) throws IOException {
        Path secret = work.resolve("secret");
        Path pub = work.resolve("public");
        nix.nixStore("--generate-binary-cache-key", "nix-test-1", secret.toString(), pub.toString());
        Path cache = work.resolve("cache");
        List<String> copy = new ArrayList<>(List.of("copy", "--to",
            "file://" + cache + "?compression=" + compression + "&secret-key=" + secret));
        copy.addAll(paths);
        nix.nix(copy.toArray(String[]::new));

        try (Stream<Path> files = Files.list(cache)) {
            List<Path> narinfos = files.filter(f -> f.toString().endsWith(".narinfo")).toList();
            assertEquals(paths.size(), narinfos.size());
            for (Path narinfo : narinfos) {
                assertEquals(compression, NarInfo.parse(Files.readString(narinfo), STORE, narinfo.toString())
                    .files().get(0).compression());
            }
        }
        BinaryCache granary = BinaryCache.open("file://" + cache, STORE,
            TrustedKeys.parse(List.of(Files.readString(pub))));
        for (String path : paths) {
            Substitute substitute = granary.lookup(StorePath.parse(path, STORE)).orElseThrow();
            PathInfo info = substitute.info();
            assertEquals(Hash.parse(nix.nixStore("--query", "--hash", path).strip()), info.narHash(), path);
            assertEquals(Long.parseLong(nix.nixStore("--query", "--size", path).strip()), info.narSize(), path);
            assertEquals(new TreeSet<>(nix.nixStore("--query", "--references", path).lines()
                .map(p -> StorePath.parse(p, STORE)).toList()), info.references(), path);
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            nix.dump(nix.physicalPath(path), expected);
            try (InputStream in = substitute.openNar()) {
                assertArrayEquals(expected.toByteArray(), in.readAllBytes(), path);
            }
        }

        // The same cache, trusted with another key of the same name: every narinfo is refused.
        SigningKey impostor = SigningKey.generate("nix-test-1", new SecureRandom());
        BinaryCache wrongKey = BinaryCache.open("file://" + cache, STORE,
            TrustedKeys.of(List.of(impostor.verifyingKey())));
        SubstituteException e = assertThrows(SubstituteException.class,
            () -> wrongKey.lookup(StorePath.parse(paths.get(0), STORE)));
        assertTrue(e.getMessage().contains("does not verify"), e.getMessage());
    }

    @Test
    void nixsSecretKeyFileSignsWhatNixVerifies() throws IOException {
        Path secret = work.resolve("secret");
        Path pub = work.resolve("public");
        nix.nixStore("--generate-binary-cache-key", "nix-made-1", secret.toString(), pub.toString());
        SigningKey key = SigningKey.parse(Files.readString(secret));
        assertEquals(Files.readString(pub).strip(), key.verifyingKey().toString());
        copyFromGranaryCache(key, Files.readString(pub).strip(), true);
    }

    @Test
    void aCacheWrittenByGranaryIsCopiedByNixIntoAFreshStore() throws IOException {
        SigningKey key = SigningKey.generate("granary-test-1", new SecureRandom());
        copyFromGranaryCache(key, key.verifyingKey().toString(), true);
    }

    @Test
    void nixRefusesAGranaryCacheSignedByAKeyItDoesNotTrust() throws IOException {
        SigningKey key = SigningKey.generate("granary-test-1", new SecureRandom());
        SigningKey other = SigningKey.generate("granary-test-1", new SecureRandom());
        copyFromGranaryCache(key, other.verifyingKey().toString(), false);
    }

    /** Writes the items to a Granary cache (lzip for one, xz for the others) and has a fresh Nix copy them. */
    private void copyFromGranaryCache(SigningKey key, String trustedByNix, boolean accepted) throws IOException {
        Path cache = work.resolve("granary-cache");
        CacheWriter xz = CacheWriter.open(cache, STORE, Compression.XZ, key);
        CacheWriter zstd = CacheWriter.open(cache, STORE, Compression.ZSTD, key);
        for (String path : paths) {
            PathInfo info = infoFromNix(path);
            (path.equals(paths.get(0)) ? zstd : xz).write(info, nix.physicalPath(path));
        }
        NixOracle fresh = NixOracle.open(work.resolve("fresh"));
        List<String> copy = new ArrayList<>(List.of("copy", "--from", "file://" + cache,
            "--option", "trusted-public-keys", trustedByNix));
        copy.addAll(paths);
        if (!accepted) {
            IOException e = assertThrows(IOException.class, () -> fresh.nix(copy.toArray(String[]::new)));
            assertTrue(e.getMessage().contains("signature"), e.getMessage());
            return;
        }
        fresh.nix(copy.toArray(String[]::new));
        for (String path : paths) {
            assertEquals(nix.nixStore("--query", "--hash", path), fresh.nixStore("--query", "--hash", path), path);
            assertEquals(nix.nixStore("--query", "--references", path),
                fresh.nixStore("--query", "--references", path), path);
            assertEquals(nix.dumpDigest(nix.physicalPath(path)), fresh.dumpDigest(fresh.physicalPath(path)), path);
        }
        fresh.nixStore("--verify", "--check-contents");
    }

    private PathInfo infoFromNix(String path) throws IOException {
        List<StorePath> references = new ArrayList<>();
        nix.nixStore("--query", "--references", path).lines().forEach(p -> references.add(StorePath.parse(p, STORE)));
        return PathInfo.of(StorePath.parse(path, STORE), Hash.parse(nix.nixStore("--query", "--hash", path).strip()),
            Long.parseLong(nix.nixStore("--query", "--size", path).strip()), references, 0);
    }
}
