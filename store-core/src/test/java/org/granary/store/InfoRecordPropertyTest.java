package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Builders;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class InfoRecordPropertyTest {
    private static final String STORE = "/gnu/store";
    private static final String NAME_CHARS =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=";

    @Property
    void decodeInvertsEncode(@ForAll("infos") PathInfo info) {
        byte[] record = InfoRecord.encode(info);
        assertEquals(info, InfoRecord.decode(STORE, Keys.of(info.path()), record, info.references()));
        assertEquals(info.path().name(), InfoRecord.name(Keys.of(info.path()), record));
    }

    @Property(tries = 200)
    void everyTruncationIsRejectedWithTheNamedException(@ForAll("infos") PathInfo info) {
        byte[] record = InfoRecord.encode(info);
        byte[] key = Keys.of(info.path());
        for (int length = 0; length < record.length; length++) {
            byte[] truncated = Arrays.copyOf(record, length);
            CorruptRecordException e = assertThrows(CorruptRecordException.class,
                () -> InfoRecord.decode(STORE, key, truncated, info.references()));
            assertTrue(e.getMessage().contains(info.path().hashPart()), e.getMessage());
        }
    }

    @Property(tries = 200)
    void everySingleByteChangeDecodesToAValidInfoOrIsRejectedWithTheNamedException(
            @ForAll("infos") PathInfo info, @ForAll byte xor) {
        byte[] record = InfoRecord.encode(info);
        byte[] key = Keys.of(info.path());
        byte delta = xor == 0 ? 1 : xor;
        for (int i = 0; i < record.length; i++) {
            byte[] changed = record.clone();
            changed[i] ^= delta;
            try {
                PathInfo decoded = InfoRecord.decode(STORE, key, changed, info.references());
                assertEquals(info.path().hashPart(), decoded.path().hashPart());
            } catch (CorruptRecordException e) {
                assertTrue(e.getMessage().contains(info.path().hashPart()), e.getMessage());
            }
        }
    }

    @Test
    void aCorruptRecordIsNamedByItsPathAndOffset() {
        PathInfo info = DbFixtures.info(DbFixtures.path("hello-2.12"));
        byte[] record = InfoRecord.encode(info);
        record[0] = 7;
        CorruptRecordException e = assertThrows(CorruptRecordException.class,
            () -> InfoRecord.decode(STORE, Keys.of(info.path()), record, info.references()));
        assertEquals("corrupt info record of hash part " + info.path().hashPart() + " at byte 0 of "
            + record.length + ": unknown record version 7 (this Granary reads 1)", e.getMessage());
        byte[] trailing = Arrays.copyOf(InfoRecord.encode(info), record.length + 1);
        e = assertThrows(CorruptRecordException.class,
            () -> InfoRecord.decode(STORE, Keys.of(info.path()), trailing, info.references()));
        assertTrue(e.getMessage().contains("(name \"hello-2.12\")") && e.getMessage().endsWith("1 trailing bytes"),
            e.getMessage());
    }

    @Provide
    Arbitrary<PathInfo> infos() {
        Arbitrary<StorePath> paths = paths();
        Arbitrary<String> tokens = Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(80);
        return Builders.withBuilder(() -> new Object[8])
            .use(paths).in((a, p) -> set(a, 0, p))
            .use(Arbitraries.bytes().array(byte[].class).ofSize(32)).in((a, h) -> set(a, 1, h))
            .use(Arbitraries.longs().greaterOrEqual(0)).in((a, n) -> set(a, 2, n))
            .use(paths.set().ofMaxSize(8)).in((a, r) -> set(a, 3, r))
            .use(paths.injectNull(0.5)).in((a, d) -> set(a, 4, d))
            .use(Arbitraries.longs().greaterOrEqual(0)).in((a, t) -> set(a, 5, t))
            .use(tokens.set().ofMaxSize(4)).in((a, s) -> set(a, 6, s))
            .use(tokens.injectNull(0.5)).in((a, c) -> set(a, 7, c))
            .build(a -> new PathInfo((StorePath) a[0], Hash.of(HashAlgorithm.SHA256, (byte[]) a[1]), (Long) a[2],
                sorted(a[3]), (StorePath) a[4], (Long) a[5], sorted(a[6]), (String) a[7]));
    }

    private Arbitrary<StorePath> paths() {
        Arbitrary<String> hashParts = Arbitraries.strings().withChars(NixBase32.ALPHABET.toCharArray()).ofLength(32);
        Arbitrary<String> names = Arbitraries.strings().withChars(NAME_CHARS.toCharArray())
            .ofMinLength(1).ofMaxLength(StorePath.MAX_NAME_LENGTH).filter(n -> n.charAt(0) != '.');
        return hashParts.flatMap(h -> names.map(n -> new StorePath(STORE, h, n)));
    }

    private static Object[] set(Object[] a, int i, Object value) {
        a[i] = value;
        return a;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Comparable<T>> SortedSet<T> sorted(Object set) {
        return new TreeSet<>((Set<T>) set);
    }
}
