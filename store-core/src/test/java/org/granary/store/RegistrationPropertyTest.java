package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** {@link RegistrationReader} and {@link RegistrationWriter}: round trips, truncations, mutations. */
class RegistrationPropertyTest {
    private static final String STORE = "/gnu/store";
    private static final String NAME_CHARS =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=";

    private static String write(List<PathInfo> infos, boolean hashGiven) throws IOException {
        StringWriter text = new StringWriter();
        RegistrationWriter writer = new RegistrationWriter(text, hashGiven);
        for (PathInfo info : infos) {
            writer.write(info);
        }
        return text.toString();
    }

    private static List<RegistrationReader.Item> read(String text, boolean hashGiven) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1));
        return (hashGiven ? RegistrationReader.hashGiven(in, STORE) : RegistrationReader.regInfo(in, STORE)).readAll();
    }

    @Property(tries = 200)
    void whatTheWriterWritesTheReaderReadsBack(@ForAll("infos") List<PathInfo> infos, @ForAll boolean hashGiven)
            throws IOException {
        List<RegistrationReader.Item> items = read(write(infos, hashGiven), hashGiven);
        assertEquals(infos.size(), items.size());
        for (int i = 0; i < infos.size(); i++) {
            PathInfo info = infos.get(i);
            RegistrationReader.Item item = items.get(i);
            assertEquals(info.path(), item.path());
            assertEquals(info.deriver(), item.deriver());
            assertEquals(info.references(), item.references());
            assertEquals(hashGiven ? info.narHash() : null, item.narHash());
            assertEquals(hashGiven ? info.narSize() : -1, item.narSize());
        }
    }

    @Property(tries = 100)
    void everyTruncationIsRejectedWithALineNumberOrEndsBetweenItems(@ForAll("infos") List<PathInfo> infos,
            @ForAll boolean hashGiven) throws IOException {
        String text = write(infos, hashGiven);
        Set<Integer> boundaries = new TreeSet<>();
        int offset = 0;
        boundaries.add(0);
        for (PathInfo info : infos) {
            offset += write(List.of(info), hashGiven).length();
            boundaries.add(offset);
        }
        for (int length = 0; length < text.length(); length++) {
            String prefix = text.substring(0, length);
            if (boundaries.contains(length)) {
                read(prefix, hashGiven);
            } else {
                RegistrationFormatException e =
                    assertThrows(RegistrationFormatException.class, () -> read(prefix, hashGiven));
                long lines = prefix.chars().filter(c -> c == '\n').count();
                assertEquals(lines + 1, e.line(), e.getMessage());
            }
        }
    }

    @Property(tries = 300)
    void everyMutationIsRejectedCleanlyOrParsed(@ForAll("infos") List<PathInfo> infos, @ForAll boolean hashGiven,
            @ForAll @IntRange(min = 0, max = 1_000_000) int where, @ForAll("bytes") char replacement) {
        String text;
        try {
            text = write(infos, hashGiven);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        if (text.isEmpty()) {
            return;
        }
        int at = where % text.length();
        String mutated = text.substring(0, at) + replacement + text.substring(at + 1);
        try {
            for (RegistrationReader.Item item : read(mutated, hashGiven)) {
                assertEquals(STORE, item.path().storeDir());
            }
        } catch (RegistrationFormatException e) {
            assertTrue(e.line() >= 1 && e.getMessage().startsWith("registration input line " + e.line() + ": "),
                e.getMessage());
        } catch (IOException e) {
            throw new AssertionError("not a format error: " + e, e);
        }
    }

    @Test
    void acceptsTheHashWithOrWithoutItsPrefixAndInEveryEncoding() throws IOException {
        Hash hash = Hash.of(HashAlgorithm.SHA256, new byte[32]);
        String path = STORE + "/" + "0".repeat(32) + "-a\n";
        for (HashFormat format : List.of(HashFormat.BASE16, HashFormat.BASE32, HashFormat.BASE64)) {
            for (String prefix : List.of("", "sha256:")) {
                List<RegistrationReader.Item> items = read(path + prefix + hash.format(format) + "\n12\n\n0\n", true);
                assertEquals(hash, items.get(0).narHash());
                assertEquals(12, items.get(0).narSize());
            }
        }
    }

    @Test
    void namesTheLineAndWhatWasExpected() {
        String path = STORE + "/" + "0".repeat(32) + "-a";
        String text = path + "\n\n1\n" + path + "\n" + path + "\n\nx\n";
        RegistrationFormatException e = assertThrows(RegistrationFormatException.class, () -> read(text, false));
        assertEquals(7, e.line());
        assertEquals("registration input line 7: expected the number of references (decimal, at most "
            + RegistrationReader.MAX_REFERENCES + ") but found \"x\"", e.getMessage());
        assertThrows(RegistrationFormatException.class, () -> read(path + "\r\n\n0\n", false));
        assertThrows(RegistrationFormatException.class, () -> read(path + "\n\n01\n" + path + "\n", false));
        assertThrows(RegistrationFormatException.class, () -> read("/nix/store/" + "0".repeat(32) + "-a\n\n0\n", false));
    }

    @Provide
    Arbitrary<List<PathInfo>> infos() {
        Arbitrary<StorePath> paths = paths();
        Arbitrary<PathInfo> info = Combinators.combine(paths,
                Arbitraries.bytes().array(byte[].class).ofSize(32),
                Arbitraries.longs().between(0, Long.MAX_VALUE),
                paths.set().ofMaxSize(4),
                paths.injectNull(0.5))
            .as((p, h, size, refs, deriver) ->
                PathInfo.of(p, Hash.of(HashAlgorithm.SHA256, h), size, new ArrayList<>(refs), 0).withDeriver(deriver));
        return info.list().ofMaxSize(4);
    }

    @Provide
    Arbitrary<Character> bytes() {
        return Arbitraries.of('\n', '\r', 'x', '0', '9', '/', ':', '-', ' ', '\u00e9', 'e', 'A', '\u0000');
    }

    private Arbitrary<StorePath> paths() {
        Arbitrary<String> hashParts = Arbitraries.strings().withChars(NixBase32.ALPHABET.toCharArray()).ofLength(32);
        Arbitrary<String> names = Arbitraries.strings().withChars(NAME_CHARS.toCharArray())
            .ofMinLength(1).ofMaxLength(40).filter(n -> n.charAt(0) != '.');
        return hashParts.flatMap(h -> names.map(n -> new StorePath(STORE, h, n)));
    }
}
