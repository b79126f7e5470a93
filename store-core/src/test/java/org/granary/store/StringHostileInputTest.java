package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.granary.nar.testing.FullTries;

/**
 * Hostile strings (issue 7) for the parsers of store paths ({@link StorePath#parse}), hashes
 * ({@link Hash#parse(String)} and {@link Hash#parse(String, HashAlgorithm)} in every format and
 * algorithm) and nix-base32 ({@link NixBase32#decode}): character-level mutations of valid texts, with
 * look-alikes (upper case, the letters nix-base32 leaves out, Unicode digits, lone surrogates, NUL). Each
 * is accepted, and then printed back exactly (base16 in lower case), or refused with the parser's own
 * exception: {@link InvalidStorePathException}, {@link InvalidHashException}, and for nix-base32 the
 * {@link IllegalArgumentException} it documents. The tries are a plain build's;
 * {@code -Pfull-reliability} runs 100,000 of each.
 */
class StringHostileInputTest {
    private static final List<String> PIECES = List.of("e", "o", "u", "t", "E", "A", "0", "z", "/", ".", "..", "-",
        ":", "=", "+", "_", "?", " ", "\n", "\0", "\u00e9", "\u0661", "\uff10", "\ud800", "\udfff", "\ud83d\ude00",
        "/gnu/store/", "/nix/store/", "sha256:", "sha256-", "md5:", "sha1-", "SHA256:", "sri:", "==", "=",
        "0".repeat(32), "z".repeat(52));

    @Provide
    Arbitrary<String> hostilePaths() {
        return mutations(HostileSeeds.paths().map(StorePath::toString));
    }

    @Provide
    Arbitrary<String> hostileHashes() {
        Arbitrary<Hash> hashes = Arbitraries.of(HashAlgorithm.values()).flatMap(algorithm ->
            Arbitraries.bytes().array(byte[].class).ofSize(algorithm.size()).map(bytes -> Hash.of(algorithm, bytes)));
        Arbitrary<String> texts = Combinators.combine(hashes, Arbitraries.of(HashFormat.values()), Arbitraries.of(true, false))
            .as((hash, format, typed) -> format == HashFormat.SRI || !typed ? hash.format(format)
                : hash.algorithm().nixName() + ":" + hash.format(format));
        return mutations(texts);
    }

    @Provide
    Arbitrary<String> hostileBase32() {
        return mutations(Arbitraries.bytes().array(byte[].class).ofMaxSize(70).map(NixBase32::encode));
    }

    private static Arbitrary<String> mutations(Arbitrary<String> seeds) {
        Arbitrary<String> mutated = Combinators.combine(seeds, Arbitraries.longs())
            .as((seed, n) -> mutate(seed, new Random(n)));
        return Arbitraries.frequencyOf(Tuple.of(1, seeds), Tuple.of(6, mutated));
    }

    @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void aStorePathIsParsedExactlyOrRefusedWithItsOwnException(@ForAll("hostilePaths") String text) {
        StorePath path;
        try {
            path = StorePath.parse(text, HostileSeeds.STORE);
        } catch (InvalidStorePathException e) {
            return;
        } catch (RuntimeException e) {
            throw new AssertionError("refused with " + e + " instead of InvalidStorePathException: " + quoted(text), e);
        }
        assertEquals(text, path.toString(), "an accepted path prints back as its text");
    }

    @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void aHashIsParsedExactlyOrRefusedWithItsOwnException(@ForAll("hostileHashes") String text) {
        checkHash(text, null);
        for (HashAlgorithm algorithm : HashAlgorithm.values()) {
            checkHash(text, algorithm);
        }
    }

    @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void nixBase32IsDecodedExactlyOrRefused(@ForAll("hostileBase32") String text) {
        byte[] bytes;
        try {
            bytes = NixBase32.decode(text);
        } catch (IllegalArgumentException e) {
            assertEquals(IllegalArgumentException.class, e.getClass(), "the documented exception, no subclass");
            return;
        } catch (RuntimeException e) {
            throw new AssertionError("refused with " + e + ": " + quoted(text), e);
        }
        assertEquals(text, NixBase32.encode(bytes), "an accepted text is the one encoding of its bytes");
    }

    private static void checkHash(String text, HashAlgorithm algorithm) {
        Hash hash;
        try {
            hash = algorithm == null ? Hash.parse(text) : Hash.parse(text, algorithm);
        } catch (InvalidHashException e) {
            return;
        } catch (RuntimeException e) {
            throw new AssertionError("refused with " + e + " instead of InvalidHashException: " + quoted(text)
                + (algorithm == null ? "" : " as " + algorithm), e);
        }
        String body = text.substring(text.indexOf(text.contains(":") ? ':' : '-') + 1);
        boolean printsBack = false;
        for (HashFormat format : HashFormat.values()) {
            printsBack |= hash.format(format).equals(format == HashFormat.SRI ? text : body)
                || format == HashFormat.BASE16 && hash.format(format).equalsIgnoreCase(body);
        }
        assertEquals(true, printsBack, "an accepted hash prints back as its text: " + quoted(text) + " gave " + hash);
    }

    /** One to five character edits: replace, insert, delete, duplicate a run, truncate, or a piece inserted. */
    static String mutate(String seed, Random random) {
        StringBuilder s = new StringBuilder(seed);
        for (int edits = 1 + random.nextInt(5); edits > 0; edits--) {
            int at = s.length() == 0 ? 0 : random.nextInt(s.length());
            switch (s.length() == 0 ? 1 : random.nextInt(6)) {
                case 0 -> s.replace(at, at + 1, piece(random));
                case 1 -> s.insert(random.nextInt(s.length() + 1), piece(random));
                case 2 -> s.delete(at, Math.min(s.length(), at + 1 + random.nextInt(4)));
                case 3 -> s.insert(at, s.substring(at, Math.min(s.length(), at + 1 + random.nextInt(8))));
                case 4 -> s.setLength(at);
                default -> s.setCharAt(at, Character.isUpperCase(s.charAt(at)) ? Character.toLowerCase(s.charAt(at))
                    : Character.toUpperCase(s.charAt(at)));
            }
        }
        return s.toString();
    }

    private static String piece(Random random) {
        return PIECES.get(random.nextInt(PIECES.size()));
    }

    private static String quoted(String text) {
        StringBuilder s = new StringBuilder("\"");
        text.chars().forEach(c -> s.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)));
        return s.append('"').toString();
    }
}
