package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class HashPropertyTest {
    @Property
    void everyFormatParsesBackToTheSameHash(@ForAll("hashes") Hash hash, @ForAll HashFormat format) {
        String text = hash.format(format);
        assertEquals(hash, Hash.parse(text, hash.algorithm()));
        if (format == HashFormat.SRI) {
            assertEquals(hash, Hash.parse(text));
        } else {
            assertEquals(hash, Hash.parse(hash.algorithm().nixName() + ":" + text));
        }
    }

    @Property
    void theDatabaseFormParsesBackAndUpperCaseHexIsTheSameHash(@ForAll("hashes") Hash hash) {
        assertEquals(hash, Hash.parse(hash.toString()));
        assertEquals(hash, Hash.parse(hash.format(HashFormat.BASE16).toUpperCase(), hash.algorithm()));
    }

    @Property
    void parsingAPrintedHashPrintsItAgain(@ForAll("hashes") Hash hash, @ForAll HashFormat format) {
        String text = hash.format(format);
        assertEquals(text, Hash.parse(text, hash.algorithm()).format(format));
    }

    @Provide
    Arbitrary<Hash> hashes() {
        return Arbitraries.of(HashAlgorithm.class).flatMap(algorithm -> Arbitraries.bytes().array(byte[].class)
            .ofSize(algorithm.size()).map(bytes -> Hash.of(algorithm, bytes)));
    }
}
