package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class StorePathPropertyTest {
    private static final String NAME_CHARS =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=";

    @Property
    void parseInvertsToString(@ForAll("storePaths") StorePath path) {
        assertEquals(path, StorePath.parse(path.toString(), path.storeDir()));
        assertEquals(path.storeDir() + "/" + path.hashPart() + "-" + path.name(), path.toString());
    }

    @Property
    void aNameWithACharacterOutsideGuixsSetIsRejectedNamingIt(
            @ForAll("names") String name, @ForAll char bad, @ForAll @IntRange(max = 1000) int where) {
        Assume.that(NAME_CHARS.indexOf(bad) < 0 && !Character.isSurrogate(bad));
        int index = where % (name.length() + 1);
        String badName = name.substring(0, index) + bad + name.substring(index);
        String path = "/gnu/store/" + "0".repeat(32) + "-" + badName;
        InvalidStorePathException e =
            assertThrows(InvalidStorePathException.class, () -> StorePath.parse(path, "/gnu/store"));
        if (bad != '/') {
            assertTrue(e.getMessage().contains("at index " + index + " in name"), e.getMessage());
        }
    }

    @Provide
    Arbitrary<StorePath> storePaths() {
        Arbitrary<String> dirs = Arbitraries.of("/gnu/store", "/nix/store", "/tmp/x y/store", "/s");
        Arbitrary<String> hashParts = Arbitraries.strings().withChars(NixBase32.ALPHABET.toCharArray()).ofLength(32);
        return Combinators.combine(dirs, hashParts, names()).as(StorePath::new);
    }

    @Provide
    Arbitrary<String> names() {
        Arbitrary<Character> first = Arbitraries.chars().with(NAME_CHARS.replace(".", "").toCharArray());
        Arbitrary<String> rest = Arbitraries.strings().withChars(NAME_CHARS.toCharArray())
            .ofMaxLength(StorePath.MAX_NAME_LENGTH - 1);
        return Combinators.combine(first, rest).as((c, s) -> c + s);
    }
}
