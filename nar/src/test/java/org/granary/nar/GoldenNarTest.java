package org.granary.nar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.granary.nar.testing.StreamAssertions;
import org.granary.nar.testing.StreamDigest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Granary against NARs written by real Nix and their {@code nix-hash} values, recorded in
 * {@code golden/} by {@code scripts/nar-golden-vectors.sh}: runs without Nix installed. For each NAR:
 * the reader accepts it and its events rebuild it byte for byte; the restorer restores it; the dumper
 * archives the restored tree to the same bytes, with the recorded hashes.
 */
class GoldenNarTest {

    private static final String INDEX = "golden/index.txt";
    private static final String NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";

    /** One line of the index: a NAR and what Nix said about its tree. */
    record Golden(String name, long narSize, String sha256Base32, String sha256, String sha512) {
        @Override
        public String toString() {
            return name;
        }

        InputStream open() {
            InputStream nar = GoldenNarTest.class.getResourceAsStream("golden/" + name + ".nar");
            assertNotNull(nar, "golden/" + name + ".nar is listed in " + INDEX + " but missing");
            return new BufferedInputStream(nar);
        }
    }

    static List<Golden> goldens() throws IOException {
        InputStream index = GoldenNarTest.class.getResourceAsStream(INDEX);
        assertNotNull(index, INDEX + " is missing; run scripts/nar-golden-vectors.sh");
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8))) {
            return lines.lines()
                    .filter(line -> !line.startsWith("#") && !line.isBlank())
                    .map(line -> line.split(" "))
                    .map(f -> new Golden(f[0], Long.parseLong(f[1]), f[2], f[3], f[4]))
                    .toList();
        }
    }

    @Test
    void theIndexListsEveryKindOfTree() throws IOException {
        List<String> names = goldens().stream().map(Golden::name).toList();
        assertTrue(names.containsAll(List.of("padding", "modes", "symlinks", "names", "nested", "empty-dir",
                "top-file", "top-exec", "top-empty-file", "top-symlink")), names.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void goldenFileIsTheNarNixHashed(Golden golden) throws IOException {
        try (InputStream nar = golden.open()) {
            assertEquals(new StreamDigest(golden.sha256(), golden.narSize()), StreamDigest.of(nar));
        }
        assertEquals(golden.sha256Base32(), nixBase32(HexFormat.of().parseHex(golden.sha256())),
                "the index's base32 and base16 SHA-256 (and this test's nix-base32 encoder) agree");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void readerAcceptsItAndItsEventsRebuildIt(Golden golden) throws IOException {
        long[] read = new long[1];
        try (InputStream expected = golden.open(); InputStream nar = golden.open()) {
            StreamAssertions.assertSameBytes("golden/" + golden.name() + ".nar rebuilt from NarReader events",
                    expected, out -> read[0] = NarReader.read(nar, new Rewriter(NarWriter.begin(out))));
            assertEquals(-1, nar.read(), "NarReader.read left bytes of the NAR unread");
        }
        assertEquals(golden.narSize(), read[0], "size returned by NarReader.read");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void restoredTreeDumpsToTheSameBytesAndHashes(Golden golden, @TempDir Path scratch) throws IOException {
        Path restored = scratch.resolve(golden.name());
        try (InputStream nar = golden.open()) {
            assertEquals(golden.narSize(), NarRestorer.restore(nar, restored), "size returned by NarRestorer");
        }
        try (InputStream expected = golden.open()) {
            StreamAssertions.assertSameBytes("golden/" + golden.name() + ".nar vs NarDumper of its restored tree",
                    expected, out -> new NarDumper().dump(restored, out));
        }
        NarDigest sha256 = new NarDumper().digest(restored, messageDigest("SHA-256"));
        assertEquals(golden.sha256(), HexFormat.of().formatHex(sha256.digest()), "nix-hash --type sha256");
        assertEquals(golden.sha256Base32(), nixBase32(sha256.digest()), "nix-hash --type sha256 --base32");
        assertEquals(golden.narSize(), sha256.narSize(), "NAR size");
        NarDigest sha512 = new NarDumper().digest(restored, messageDigest("SHA-512"));
        assertEquals(golden.sha512(), HexFormat.of().formatHex(sha512.digest()), "nix-hash --type sha512");
    }

    /**
     * Nix's base32 (its own alphabet, least significant bits first), written here independently of
     * store-core's, which this module cannot depend on.
     */
    private static String nixBase32(byte[] hash) {
        int length = (hash.length * 8 - 1) / 5 + 1;
        StringBuilder text = new StringBuilder(length);
        for (int n = length - 1; n >= 0; n--) {
            int bit = n * 5;
            int i = bit / 8;
            int j = bit % 8;
            int high = i + 1 < hash.length ? (hash[i + 1] & 0xff) << (8 - j) : 0;
            text.append(NIX_BASE32.charAt((((hash[i] & 0xff) >> j) | high) & 0x1f));
        }
        return text.toString();
    }

    private static MessageDigest messageDigest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(name + " is required of every Java platform", e);
        }
    }
}
