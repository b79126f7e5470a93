package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class NixBase32PropertyTest {
    @Property
    void decodeInvertsEncodeForEveryLengthUpTo80(@ForAll @Size(max = 80) byte[] bytes) {
        String text = NixBase32.encode(bytes);
        assertEquals(NixBase32.encodedLength(bytes.length), text.length());
        assertArrayEquals(bytes, NixBase32.decode(text));
    }

    @Property(tries = 100)
    void everyLengthFrom0To80RoundTrips(@ForAll Random random) {
        for (int length = 0; length <= 80; length++) {
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            assertArrayEquals(bytes, NixBase32.decode(NixBase32.encode(bytes)), "length " + length);
        }
    }

    /**
     * Any string of digits of a valid length decodes exactly when its first digit fits the bits left after
     * the last whole byte, and then encodes back to itself.
     */
    @Property
    void encodeInvertsDecodeForEveryValidString(@ForAll("digitStrings") String text) {
        int size = 5 * text.length() / 8;
        Assume.that(NixBase32.encodedLength(size) == text.length() && !text.isEmpty());
        int spareBits = 8 * size - 5 * (text.length() - 1);
        boolean valid = NixBase32.digit(text.charAt(0)) < (1 << Math.min(spareBits, 5));
        if (valid) {
            assertEquals(text, NixBase32.encode(NixBase32.decode(text)));
        } else {
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode(text));
        }
    }

    @Property
    void aCharacterOutsideTheAlphabetIsRejectedNamingItsIndex(
            @ForAll @Size(min = 1, max = 80) byte[] bytes, @ForAll("nonDigits") char bad,
            @ForAll @IntRange(max = 1000) int where) {
        StringBuilder text = new StringBuilder(NixBase32.encode(bytes));
        int index = where % text.length();
        text.setCharAt(index, bad);
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> NixBase32.decode(text));
        assertTrue(e.getMessage().contains(" at index " + index + " "), e.getMessage());
    }

    @Property
    void aLengthThatEncodesNoByteStringIsRejected(@ForAll("digitStrings") String text) {
        Assume.that(NixBase32.encodedLength(5 * text.length() / 8) != text.length());
        assertThrows(IllegalArgumentException.class, () -> NixBase32.decode(text));
    }

    @Provide
    Arbitrary<String> digitStrings() {
        return Arbitraries.strings().withChars(NixBase32.ALPHABET.toCharArray()).ofMaxLength(130);
    }

    @Provide
    Arbitrary<Character> nonDigits() {
        return Combinators.combine(Arbitraries.chars(), Arbitraries.of('e', 'o', 'u', 't', 'A', 'E', '='))
            .as((any, near) -> NixBase32.ALPHABET.indexOf(any) < 0 ? any : near);
    }
}
