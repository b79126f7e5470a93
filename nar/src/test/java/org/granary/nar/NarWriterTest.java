package org.granary.nar;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NarWriterTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @Test
    void helloFileIsTheKnownGoodVector() throws Exception {
        try (OutputStream file = NarWriter.begin(out).regular(false, 6)) {
            file.write("hello\n".getBytes(UTF_8));
        }
        assertEquals(120, out.size());
        assertEquals("1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out.toByteArray())));
        assertArrayEquals(NarBytes.file(false, "hello\n".getBytes(UTF_8)), out.toByteArray());
    }

    @Test
    void contentsOfEveryLengthUpToSeventeenArePaddedToEightBytes() throws IOException {
        for (int size = 0; size <= 17; size++) {
            byte[] contents = new byte[size];
            Arrays.fill(contents, (byte) 'x');
            ByteArrayOutputStream nar = new ByteArrayOutputStream();
            try (OutputStream file = NarWriter.begin(nar).regular(size % 2 == 0, size)) {
                file.write(contents);
            }
            assertArrayEquals(NarBytes.file(size % 2 == 0, contents), nar.toByteArray(), "size " + size);
            assertEquals(0, nar.size() % 8);
        }
    }

    @Test
    void writesADirectoryOfEveryNodeType() throws IOException {
        NarWriter.Directory root = NarWriter.begin(out).directory();
        root.entry(bytes("a")).symlink(bytes("../x"));
        NarWriter.Directory sub = root.entry(bytes("b")).directory();
        sub.close();
        try (OutputStream file = root.entry(bytes("c")).regular(true, 1)) {
            file.write('!');
        }
        root.close();

        byte[] expected = NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "a", "node", "(", "type", "symlink", "target", "../x", ")", ")")
                .strs("entry", "(", "name", "b", "node", "(", "type", "directory", ")", ")")
                .strs("entry", "(", "name", "c", "node", "(", "type").regular(true, bytes("!")).str(")")
                .str(")").bytes();
        assertArrayEquals(expected, out.toByteArray());
    }

    @Test
    void nothingReachesTheStreamBeforeTheRootIsCompleteAndEverythingAfter() throws IOException {
        NarWriter.Directory root = NarWriter.begin(out).directory();
        root.entry(bytes("a")).symlink(bytes("b"));
        assertEquals(0, out.size(), "buffered");
        root.close();
        assertEquals(EventLog.of(out.toByteArray()), List.of("{", "entry a", "symlink b", "}"));
    }

    @Test
    void largeContentsPassThrough() throws IOException {
        byte[] contents = new byte[100_003];
        new Random(1).nextBytes(contents);
        try (OutputStream file = NarWriter.begin(out).regular(false, contents.length)) {
            file.write(contents, 0, 10);
            file.write(contents[10]);
            file.write(contents, 11, contents.length - 11);
        }
        assertArrayEquals(NarBytes.file(false, contents), out.toByteArray());
    }

    @Test
    void aNodeIsUsedOnce() throws IOException {
        NarWriter.Node node = NarWriter.begin(out);
        node.symlink(bytes("x"));
        assertThrows(IllegalStateException.class, () -> node.symlink(bytes("y")));
        assertThrows(IllegalStateException.class, node::directory);
        assertThrows(IllegalStateException.class, () -> node.regular(false, 0));
    }

    @Test
    void entriesMustBeStrictlyIncreasingInUnsignedByteOrder() throws IOException {
        NarWriter.Directory dir = NarWriter.begin(out).directory();
        dir.entry(bytes("b")).directory().close();
        assertThrows(IllegalArgumentException.class, () -> dir.entry(bytes("b")), "duplicate");
        assertThrows(IllegalArgumentException.class, () -> dir.entry(bytes("a")), "smaller");
        assertThrows(IllegalArgumentException.class, () -> dir.entry(bytes("B")), "upper case sorts first");
        // U+FB01 (EF AC 81) sorts before U+1F600 (F0 9F 98 80) as bytes, after it as UTF-16.
        dir.entry(bytes("\uFB01")).directory().close();
        dir.entry(bytes("\uD83D\uDE00")).directory().close();
        assertThrows(IllegalArgumentException.class, () -> dir.entry(bytes("\uFB02")));
        dir.entry(new byte[] {(byte) 0xff}).directory().close();
        dir.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "a/b", "/", "a\0b"})
    void invalidEntryNamesAreRefused(String name) throws IOException {
        NarWriter.Directory dir = NarWriter.begin(out).directory();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dir.entry(bytes(name)));
        assertTrue(e.getMessage().contains("invalid entry name"), e.getMessage());
        dir.entry(bytes("still-usable")).directory().close();
        dir.close();
    }

    @Test
    void namesOfUpTo255BytesAreAccepted() throws IOException {
        NarWriter.Directory dir = NarWriter.begin(out).directory();
        dir.entry(bytes("n".repeat(255))).directory().close();
        assertThrows(IllegalArgumentException.class, () -> dir.entry(bytes("n".repeat(256))));
        dir.close();
    }

    @Test
    void symlinkTargetsMustBe1To4095BytesWithoutNul() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> NarWriter.begin(out).symlink(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> NarWriter.begin(out).symlink(bytes("a\0")));
        assertThrows(IllegalArgumentException.class, () -> NarWriter.begin(out).symlink(new byte[4096]));
        NarWriter.begin(out).symlink(bytes("x".repeat(4095)));
    }

    @Test
    void theNextEntryWaitsForThePreviousNodeToBeComplete() throws IOException {
        NarWriter.Directory dir = NarWriter.begin(out).directory();
        NarWriter.Node unused = dir.entry(bytes("a"));
        assertThrows(IllegalStateException.class, () -> dir.entry(bytes("b")), "node not used");
        assertThrows(IllegalStateException.class, dir::close, "node not used");
        NarWriter.Directory inner = unused.directory();
        assertThrows(IllegalStateException.class, () -> dir.entry(bytes("b")), "inner directory open");
        OutputStream file = inner.entry(bytes("f")).regular(false, 2);
        assertThrows(IllegalStateException.class, () -> inner.entry(bytes("g")), "file incomplete");
        file.write(new byte[2]);
        file.close();
        inner.close();
        dir.entry(bytes("b")).symlink(bytes("a"));
        dir.close();
        assertThrows(IllegalStateException.class, dir::close, "closed twice");
        assertThrows(IllegalStateException.class, () -> dir.entry(bytes("c")), "entry after close");
    }

    @Test
    void contentsMustHaveExactlyTheDeclaredSize() throws IOException {
        OutputStream shortFile = NarWriter.begin(out).regular(false, 3);
        shortFile.write(new byte[2]);
        assertThrows(IllegalStateException.class, shortFile::close);

        OutputStream longFile = NarWriter.begin(out).regular(false, 3);
        longFile.write(new byte[3]);
        assertThrows(IllegalStateException.class, () -> longFile.write(0));
        assertThrows(IllegalStateException.class, () -> longFile.write(new byte[1]));
        longFile.close();
        longFile.close(); // a second close does nothing
        assertThrows(IllegalStateException.class, () -> longFile.write(new byte[0]), "write after close");
        assertThrows(IllegalArgumentException.class, () -> NarWriter.begin(out).regular(false, -1));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }
}
