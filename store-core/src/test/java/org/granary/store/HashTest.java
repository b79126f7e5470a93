package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashTest {
    // "hello\n" (store-facts.md §3; md5, sha1 and sha512 from nix-hash --flat).
    private static final String NAR_SHA256 = "1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13";
    private static final String NAR_SHA256_NIX32 = "04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw";
    private static final String NAR_SHA256_SRI = "sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=";
    private static final String FLAT_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    private static final String FLAT_MD5 = "b1946ac92492d2347c6235b4d2611184";
    private static final String FLAT_MD5_NIX32 = "4425hx5d1mc9y39llj4k4nm55i";
    private static final String FLAT_MD5_BASE64 = "sZRqySSS0jR8YjW00mERhA==";
    private static final String FLAT_SHA1 = "f572d396fae9206628714fb2ce00f72e94f2258f";
    private static final String FLAT_SHA1_NIX32 = "iwjz551fyw0cxcjgf4l6c879zabd6wpm";
    private static final String FLAT_SHA512 = "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931"
        + "f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629";
    private static final String FLAT_SHA512_NIX32 = "0lrc0dwnvipqviibf7qfm1y492qvjwb1zhkcyi05cndmva1mr5gjcgrnz1x"
        + "36djmk0sfg8djd2n0qv68vib2jg590mwznar9jcjphp7";
    private static final String FLAT_SHA512_BASE64 = "58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEP"
        + "i8uNRSI+VIePWzFufOO2vAGWKQ==";

    @TempDir
    Path tmp;

    private static Hash sha256(String hex) {
        return Hash.of(HashAlgorithm.SHA256, HexFormat.of().parseHex(hex));
    }

    @Test
    void parsesEveryTypedFormOfTheSameHash() {
        Hash expected = sha256(NAR_SHA256);
        assertEquals(expected, Hash.parse("sha256:" + NAR_SHA256));
        assertEquals(expected, Hash.parse("sha256:" + NAR_SHA256.toUpperCase()));
        assertEquals(expected, Hash.parse("sha256:" + NAR_SHA256_NIX32));
        assertEquals(expected, Hash.parse("sha256:HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM="));
        assertEquals(expected, Hash.parse(NAR_SHA256_SRI));
    }

    @Test
    void parsesABareHashByItsLengthAsGuixDoes() {
        assertEquals(sha256(NAR_SHA256), Hash.parse(NAR_SHA256, HashAlgorithm.SHA256));
        assertEquals(sha256(NAR_SHA256), Hash.parse(NAR_SHA256_NIX32, HashAlgorithm.SHA256));
        Hash md5 = Hash.parse(FLAT_MD5, HashAlgorithm.MD5);
        assertEquals(md5, Hash.parse(FLAT_MD5_NIX32, HashAlgorithm.MD5));
        assertEquals(md5, Hash.parse(FLAT_MD5_BASE64, HashAlgorithm.MD5));
        assertEquals(Hash.parse(FLAT_SHA1, HashAlgorithm.SHA1), Hash.parse(FLAT_SHA1_NIX32, HashAlgorithm.SHA1));
        Hash sha512 = Hash.parse(FLAT_SHA512, HashAlgorithm.SHA512);
        assertEquals(sha512, Hash.parse(FLAT_SHA512_NIX32, HashAlgorithm.SHA512));
        assertEquals(sha512, Hash.parse(FLAT_SHA512_BASE64, HashAlgorithm.SHA512));
    }

    @Test
    void parseWithAnAlgorithmAlsoTakesTheTypedFormsOfThatAlgorithm() {
        assertEquals(sha256(NAR_SHA256), Hash.parse("sha256:" + NAR_SHA256_NIX32, HashAlgorithm.SHA256));
        assertEquals(sha256(NAR_SHA256), Hash.parse(NAR_SHA256_SRI, HashAlgorithm.SHA256));
        assertEquals("invalid hash \"sha1:" + FLAT_SHA1 + "\": a sha1 hash where sha256 was expected",
            assertThrows(InvalidHashException.class,
                () -> Hash.parse("sha1:" + FLAT_SHA1, HashAlgorithm.SHA256)).getMessage());
    }

    @Test
    void printsEveryFormatAndTheDatabaseForm() {
        Hash hash = sha256(NAR_SHA256);
        assertEquals(NAR_SHA256, hash.format(HashFormat.BASE16));
        assertEquals(NAR_SHA256_NIX32, hash.format(HashFormat.BASE32));
        assertEquals("HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=", hash.format(HashFormat.BASE64));
        assertEquals(NAR_SHA256_SRI, hash.format(HashFormat.SRI));
        assertEquals("sha256:" + NAR_SHA256, hash.toString());
        assertEquals("sha512-" + FLAT_SHA512_BASE64,
            Hash.parse(FLAT_SHA512, HashAlgorithm.SHA512).format(HashFormat.SRI));
    }

    @Test
    void upperCaseHexIsPrintedInLowerCase() {
        assertEquals("md5:" + FLAT_MD5, Hash.parse("md5:" + FLAT_MD5.toUpperCase()).toString());
    }

    @Test
    void aMissingOrUnknownAlgorithmIsRejected() {
        assertEquals("invalid hash \"" + NAR_SHA256
                + "\": no algorithm (expected <algorithm>:<hash> or <algorithm>-<base64>)",
            assertThrows(InvalidHashException.class, () -> Hash.parse(NAR_SHA256)).getMessage());
        assertEquals("invalid hash \"sha3-256:00\": unknown hash algorithm \"sha3-256\" "
                + "(expected md5, sha1, sha256 or sha512)",
            assertThrows(InvalidHashException.class, () -> Hash.parse("sha3-256:00")).getMessage());
        assertEquals("invalid hash \"SHA256:" + NAR_SHA256 + "\": unknown hash algorithm \"SHA256\" "
                + "(expected md5, sha1, sha256 or sha512)",
            assertThrows(InvalidHashException.class, () -> Hash.parse("SHA256:" + NAR_SHA256)).getMessage());
    }

    @Test
    void aLengthThatFitsNoEncodingIsRejectedListingTheLengthsThatWould() {
        assertEquals("invalid hash \"sha256:abc\": 3 characters fit no encoding of a sha256 hash "
                + "(base16 64, nix-base32 52, base64 44)",
            assertThrows(InvalidHashException.class, () -> Hash.parse("sha256:abc")).getMessage());
        // A SHA-1's base16 length is not a SHA-256's.
        assertThrows(InvalidHashException.class, () -> Hash.parse(FLAT_SHA1, HashAlgorithm.SHA256));
        assertThrows(InvalidHashException.class, () -> Hash.parse("", HashAlgorithm.MD5));
    }

    @Test
    void aBadBase16CharacterIsNamedWithItsIndex() {
        String bad = "g" + NAR_SHA256.substring(1);
        assertEquals("invalid hash \"sha256:" + bad + "\": invalid character 'g' at index 0 of base16 string \""
                + bad + "\"",
            assertThrows(InvalidHashException.class, () -> Hash.parse("sha256:" + bad)).getMessage());
    }

    @Test
    void aBadNixBase32CharacterOrExcessBitIsRejected() {
        String bad = NAR_SHA256_NIX32.substring(0, 5) + "e" + NAR_SHA256_NIX32.substring(6);
        assertEquals("invalid hash \"" + bad + "\": invalid character 'e' at index 5 of nix-base32 string \""
                + bad + "\"",
            assertThrows(InvalidHashException.class, () -> Hash.parse(bad, HashAlgorithm.SHA256)).getMessage());
        String excess = "2" + NAR_SHA256_NIX32.substring(1);
        assertThrows(InvalidHashException.class, () -> Hash.parse("sha256:" + excess));
    }

    @Test
    void base64MustBeCanonicalAndPadded() {
        assertEquals("invalid hash \"md5:sZRqySSS0jR8YjW00mERh-==\": invalid character '-' at index 21 of base64 "
                + "string \"sZRqySSS0jR8YjW00mERh-==\" (A-Z a-z 0-9 + / expected)",
            assertThrows(InvalidHashException.class, () -> Hash.parse("md5:sZRqySSS0jR8YjW00mERh-==")).getMessage());
        assertEquals("invalid hash \"md5:sZRqySSS0jR8YjW00mERhA=A\": invalid character 'A' at index 23 of base64 "
                + "string \"sZRqySSS0jR8YjW00mERhA=A\" ('=' padding expected)",
            assertThrows(InvalidHashException.class, () -> Hash.parse("md5:sZRqySSS0jR8YjW00mERhA=A")).getMessage());
        // 'B' sets a bit past the 16th byte, which the JDK's decoder would silently drop.
        assertEquals("invalid hash \"md5:sZRqySSS0jR8YjW00mERhB==\": base64 string \"sZRqySSS0jR8YjW00mERhB==\" "
                + "sets bits beyond its 16 bytes in its last digit",
            assertThrows(InvalidHashException.class, () -> Hash.parse("md5:sZRqySSS0jR8YjW00mERhB==")).getMessage());
    }

    @Test
    void sriNeedsExactlyTheBase64Length() {
        assertEquals("invalid hash \"sha256-" + NAR_SHA256 + "\": an SRI sha256 hash has 44 base64 characters, "
                + "not 64",
            assertThrows(InvalidHashException.class, () -> Hash.parse("sha256-" + NAR_SHA256)).getMessage());
    }

    @Test
    void ofChecksTheLengthAndCopies() {
        assertEquals("a sha1 hash has 20 bytes, not 32",
            assertThrows(IllegalArgumentException.class,
                () -> Hash.of(HashAlgorithm.SHA1, new byte[32])).getMessage());
        byte[] bytes = new byte[16];
        Hash hash = Hash.of(HashAlgorithm.MD5, bytes);
        bytes[0] = 1;
        assertArrayEquals(new byte[16], hash.bytes());
        hash.bytes()[0] = 1;
        assertArrayEquals(new byte[16], hash.bytes());
    }

    @Test
    void equalityIsAlgorithmAndBytes() {
        Hash a = Hash.of(HashAlgorithm.SHA1, new byte[20]);
        assertEquals(a, Hash.of(HashAlgorithm.SHA1, new byte[20]));
        assertEquals(a.hashCode(), Hash.of(HashAlgorithm.SHA1, new byte[20]).hashCode());
        assertNotEquals(a, Hash.of(HashAlgorithm.SHA1, HexFormat.of().parseHex(FLAT_SHA1)));
        assertNotEquals(Hash.of(HashAlgorithm.MD5, new byte[16]), Hash.of(HashAlgorithm.SHA256, new byte[32]));
    }

    @Test
    void ofFileHashesTheContentsFlat() throws IOException {
        Path file = Files.writeString(tmp.resolve("hello.txt"), "hello\n");
        assertEquals(sha256(FLAT_SHA256), Hash.ofFile(file, HashAlgorithm.SHA256));
        assertEquals("md5:" + FLAT_MD5, Hash.ofFile(file, HashAlgorithm.MD5).toString());
        assertEquals("sha1:" + FLAT_SHA1, Hash.ofFile(file, HashAlgorithm.SHA1).toString());
        assertEquals("sha512:" + FLAT_SHA512, Hash.ofFile(file, HashAlgorithm.SHA512).toString());
    }

    @Test
    void ofFileOfADirectoryFails() {
        assertThrows(IOException.class, () -> Hash.ofFile(tmp, HashAlgorithm.SHA256));
    }

    @Test
    void ofNarHashesTheNarSerialisation() throws IOException {
        Path file = Files.writeString(tmp.resolve("hello.txt"), "hello\n");
        assertEquals(sha256(NAR_SHA256), Hash.ofNar(file, HashAlgorithm.SHA256));
        assertEquals("sha1:0deb52c2735eb38d360f976b7b3823c4ad05cce7", Hash.ofNar(file, HashAlgorithm.SHA1).toString());
        // The executable bit is part of the NAR, so it changes the hash.
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertNotEquals(sha256(NAR_SHA256), Hash.ofNar(file, HashAlgorithm.SHA256));
    }

    @Test
    void algorithmsHaveGuixNamesSizesAndDigests() {
        for (HashAlgorithm algorithm : HashAlgorithm.values()) {
            assertEquals(algorithm, HashAlgorithm.parse(algorithm.nixName()));
            assertEquals(algorithm.nixName(), algorithm.toString());
            assertEquals(algorithm.size(), algorithm.newDigest().getDigestLength());
        }
        assertEquals(16, HashAlgorithm.MD5.size());
        assertEquals(64, HashAlgorithm.SHA512.size());
        assertEquals("unknown hash algorithm \"sha3\" (expected md5, sha1, sha256 or sha512)",
            assertThrows(InvalidHashException.class, () -> HashAlgorithm.parse("sha3")).getMessage());
    }
}
