package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StorePathTest {
    private static final String HASH = "mai503rgk7jq72577x5iwgyc5izfvp9i";
    private static final String HELLO = "/gnu/store/" + HASH + "-hello.txt";

    private static String rejection(String path) {
        return assertThrows(InvalidStorePathException.class, () -> StorePath.parse(path, StoreDir.DEFAULT))
            .getMessage();
    }

    @Test
    void parsesItsParts() {
        StorePath path = StorePath.parse(HELLO, StoreDir.DEFAULT);
        assertEquals("/gnu/store", path.storeDir());
        assertEquals(HASH, path.hashPart());
        assertEquals("hello.txt", path.name());
        assertEquals(HASH + "-hello.txt", path.baseName());
        assertEquals(HELLO, path.toString());
        assertEquals(new StorePath("/gnu/store", HASH, "hello.txt"), path);
    }

    @Test
    void parsesInAnyStoreDir() {
        StorePath path = StorePath.parse("/nix/store/" + HASH + "-x", "/nix/store");
        assertEquals("/nix/store", path.storeDir());
        assertEquals("/nix/store/" + HASH + "-x", path.toString());
    }

    @Test
    void acceptsEveryCharacterGuixAllowsInAName() {
        String name = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=";
        assertEquals(name, StorePath.parse("/gnu/store/" + HASH + "-" + name, "/gnu/store").name());
        assertEquals("-", StorePath.parse("/gnu/store/" + HASH + "--", "/gnu/store").name());
    }

    @Test
    void aPathOutsideTheStoreDirIsRejected() {
        assertEquals("invalid store path \"/nix/store/" + HASH + "-x\": not in store dir /gnu/store",
            rejection("/nix/store/" + HASH + "-x"));
        assertEquals("invalid store path \"/gnu/storex/" + HASH + "-x\": not in store dir /gnu/store",
            rejection("/gnu/storex/" + HASH + "-x"));
        assertEquals("invalid store path \"/gnu/store\": not in store dir /gnu/store", rejection("/gnu/store"));
        assertEquals("invalid store path \"gnu/store/" + HASH + "-x\": not in store dir /gnu/store",
            rejection("gnu/store/" + HASH + "-x"));
    }

    @Test
    void aFileInsideAnItemIsNotAStorePath() {
        assertEquals("invalid store path \"" + HELLO + "/bin\": '/' at index 53 after the store dir: a store path "
                + "names an item directly in /gnu/store, not a file inside one",
            rejection(HELLO + "/bin"));
        assertEquals("invalid store path \"/gnu/store//" + HASH + "-x\": '/' at index 11 after the store dir: "
                + "a store path names an item directly in /gnu/store, not a file inside one",
            rejection("/gnu/store//" + HASH + "-x"));
    }

    @Test
    void aBaseNameTooShortForHashPartDashAndNameIsRejected() {
        assertEquals("invalid store path \"/gnu/store/\": base name \"\" is too short to hold a 32-character "
                + "hash part, '-' and a name", rejection("/gnu/store/"));
        assertEquals("invalid store path \"/gnu/store/" + HASH + "\": base name \"" + HASH
                + "\" is too short to hold a 32-character hash part, '-' and a name",
            rejection("/gnu/store/" + HASH));
    }

    @Test
    void aBadHashPartCharacterIsNamedWithItsIndex() {
        String bad = "mai503rgk7jq72577x5iwgyc5izfvp9e";
        assertEquals("invalid store path \"/gnu/store/" + bad + "-x\": invalid character 'e' at index 31 in hash "
                + "part \"" + bad + "\" (nix-base32 digits 0123456789abcdfghijklmnpqrsvwxyz expected)",
            rejection("/gnu/store/" + bad + "-x"));
        assertTrue(rejection("/gnu/store/" + HASH.toUpperCase() + "-x")
            .contains("invalid character 'M' at index 0 in hash part"));
    }

    @Test
    void aMissingDashAfterTheHashPartIsRejected() {
        assertEquals("invalid store path \"/gnu/store/" + HASH + "_x\": expected '-' after the hash part, at index "
                + "43, found '_'", rejection("/gnu/store/" + HASH + "_x"));
        // A 33-character hash part reads as 32 characters followed by something other than '-'.
        assertTrue(rejection("/gnu/store/" + HASH + "a-x").contains("expected '-' after the hash part"));
    }

    @Test
    void aBadNameCharacterIsNamedWithItsIndex() {
        assertEquals("invalid store path \"/gnu/store/" + HASH + "-a b\": invalid character ' ' at index 1 in name "
                + "\"a b\" (A-Z a-z 0-9 + - . _ ? = expected)", rejection("/gnu/store/" + HASH + "-a b"));
        assertTrue(rejection("/gnu/store/" + HASH + "-caf\u00e9")
            .contains("invalid character '\u00e9' (U+00E9) at index 3 in name"));
        assertTrue(rejection("/gnu/store/" + HASH + "-a\0b").contains("invalid character U+0000 at index 1"));
        for (char c : "!\"#$%&'()*,:;<>@[\\]^`{|}~".toCharArray()) {
            assertTrue(rejection("/gnu/store/" + HASH + "-x" + c)
                .contains("invalid character '" + c + "' at index 1 in name"), "character " + c);
        }
    }

    @Test
    void aNameStartingWithADotIsRejectedAsGuixDoesThoughNixAllowsIt() {
        assertEquals("invalid store path \"/gnu/store/" + HASH + "-.foo\": name \".foo\" begins with '.', which "
                + "Guix forbids", rejection("/gnu/store/" + HASH + "-.foo"));
        assertTrue(rejection("/gnu/store/" + HASH + "-..").contains("begins with '.'"));
    }

    @Test
    void anEmptyNameIsRejected() {
        assertEquals("invalid store path \"/gnu/store/" + HASH + "-\": empty name",
            assertThrows(InvalidStorePathException.class, () -> new StorePath("/gnu/store", HASH, "")).getMessage());
    }

    @Test
    void aNameMayHave222CharactersAndNoMore() {
        String longest = "a".repeat(222);
        assertEquals(longest, StorePath.parse("/gnu/store/" + HASH + "-" + longest, "/gnu/store").name());
        assertEquals("invalid store path \"/gnu/store/" + HASH + "-" + longest + "b\": name \"" + longest
                + "b\" has 223 characters, more than 222", rejection("/gnu/store/" + HASH + "-" + longest + "b"));
    }

    @Test
    void theConstructorValidatesEveryPart() {
        assertEquals("invalid store path \"/gnu/store/abc-x\": hash part \"abc\" has 3 characters, not 32",
            assertThrows(InvalidStorePathException.class, () -> new StorePath("/gnu/store", "abc", "x")).getMessage());
        assertThrows(InvalidStorePathException.class, () -> new StorePath("/gnu/store", HASH, "a/b"));
        assertThrows(IllegalArgumentException.class, () -> new StorePath("/gnu/store/", HASH, "x"));
        assertThrows(NullPointerException.class, () -> new StorePath("/gnu/store", HASH, null));
    }

    @Test
    void parseRejectsAStoreDirThatIsNotCanonical() {
        assertThrows(IllegalArgumentException.class, () -> StorePath.parse(HELLO, "gnu/store"));
    }
}
