package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class NixBase32Test {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void encodesTheVectorsOfStoreFacts() {
        byte[] low = new byte[20];
        low[0] = 1;
        assertEquals("00000000000000000000000000000001", NixBase32.encode(low));
        byte[] high = new byte[20];
        high[19] = (byte) 0x80;
        assertEquals("h0000000000000000000000000000000", NixBase32.encode(high));
        assertEquals("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
            NixBase32.encode(HEX.parseHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")));
        byte[] ones = new byte[32];
        Arrays.fill(ones, (byte) 0xff);
        assertEquals("1" + "z".repeat(51), NixBase32.encode(ones));
        assertEquals("04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
            NixBase32.encode(HEX.parseHex("1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13")));
        assertEquals("", NixBase32.encode(new byte[0]));
    }

    @Test
    void decodesTheVectorsOfStoreFacts() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            HEX.formatHex(NixBase32.decode("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73")));
        byte[] high = new byte[20];
        high[19] = (byte) 0x80;
        assertArrayEquals(high, NixBase32.decode("h0000000000000000000000000000000"));
        assertArrayEquals(new byte[0], NixBase32.decode(""));
    }

    @Test
    void encodedLengthIsCeilingOfEightFifths() {
        assertEquals(0, NixBase32.encodedLength(0));
        assertEquals(2, NixBase32.encodedLength(1));
        assertEquals(26, NixBase32.encodedLength(16));
        assertEquals(32, NixBase32.encodedLength(20));
        assertEquals(52, NixBase32.encodedLength(32));
        assertEquals(103, NixBase32.encodedLength(64));
        assertThrows(IllegalArgumentException.class, () -> NixBase32.encodedLength(-1));
    }

    @Test
    void decodeRejectsACharacterOutsideTheAlphabetNamingItAndItsIndex() {
        for (char c : new char[] {'e', 'o', 'u', 't', 'A', 'Z', '-', ' '}) {
            String text = "0000" + c + "000000000000000000000000000";
            IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> NixBase32.decode(text));
            assertEquals("invalid character '" + c + "' at index 4 of nix-base32 string \"" + text + "\"",
                e.getMessage());
        }
    }

    @Test
    void decodeNamesAControlOrNonAsciiCharacterByCodePoint() {
        assertEquals("invalid character U+000A at index 1 of nix-base32 string \"0\n\"",
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode("0\n")).getMessage());
        assertEquals("invalid character 'é' (U+00E9) at index 0 of nix-base32 string \"é0\"",
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode("é0")).getMessage());
    }

    @Test
    void decodeReportsTheFirstBadCharacter() {
        assertEquals("invalid character 'e' at index 0 of nix-base32 string \"eu\"",
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode("eu")).getMessage());
    }

    @Test
    void decodeRejectsALengthNoByteStringEncodesTo() {
        for (int length : new int[] {1, 3, 6, 30, 33, 51, 54}) {
            String text = "0".repeat(length);
            IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> NixBase32.decode(text));
            assertTrue(e.getMessage().contains("has length " + length + ", which is the length of no"),
                e.getMessage());
        }
        assertEquals("nix-base32 string \"000\" has length 3, which is the length of no encoding (2 or 4 would be)",
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode("000")).getMessage());
    }

    @Test
    void decodeRejectsNonZeroBitsBeyondTheLastByteLikeNix() {
        // 52 digits carry 260 bits for 256: the first digit of a SHA-256 must be 0 or 1 (Guix ignores this).
        String text = "2mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
        assertEquals("nix-base32 string \"" + text + "\" sets bits beyond its 32 bytes in its first character '2'",
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode(text)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> NixBase32.decode("z".repeat(52)));
        assertArrayEquals(new byte[] {(byte) 0xff}, NixBase32.decode("7z"));
        assertThrows(IllegalArgumentException.class, () -> NixBase32.decode("8z"));
    }

    @Test
    void compressFoldsByXor() {
        // store-facts.md §3: the SHA-256 of hello.txt's source fingerprint and its 20-byte fold.
        byte[] hash = HEX.parseHex("4ed2a927ed99fb2dfa9b2d0083e5992f0f50a2aa7f0f4459c155c433b1a48a88");
        assertEquals("31dded7e2ccc3f1e4b3fa78883e5992f0f50a2aa", HEX.formatHex(NixBase32.compress(hash, 20)));
        assertArrayEquals(new byte[] {1 ^ 3 ^ 5, 2 ^ 4}, NixBase32.compress(new byte[] {1, 2, 3, 4, 5}, 2));
        assertArrayEquals(new byte[4], NixBase32.compress(new byte[0], 4));
        assertThrows(IllegalArgumentException.class, () -> NixBase32.compress(hash, 0));
    }
}
