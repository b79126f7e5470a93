package org.granary.nar;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NarReaderTest {

    private static final NarVisitor IGNORE = new NarVisitor() {};

    /** {@code ( type directory} with an entry named {@code first} holding an empty directory, then {@code entry ( name}. */
    private static NarBytes directoryUpToSecondName() {
        return NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "first", "node", "(", "type", "directory", ")", ")")
                .strs("entry", "(", "name");
    }

    // ---- what it accepts

    @Test
    void reportsEveryNodeTypeInOrder() throws IOException {
        byte[] nar = NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "a", "node", "(", "type").regular(true, bytes("hello")).str(")")
                .strs("entry", "(", "name", "b", "node", "(", "type", "directory")
                .strs("entry", "(", "name", "c", "node", "(", "type", "symlink", "target", "../a", ")", ")")
                .strs(")", ")")
                .strs("entry", "(", "name", "d", "node", "(", "type").regular(false, new byte[0]).str(")")
                .str(")").bytes();
        assertEquals(List.of("{", "entry a", "exec 5 hello", "entry b", "{", "entry c", "symlink ../a", "}",
                "entry d", "file 0 ", "}"), EventLog.of(nar));
    }

    @Test
    void topLevelSymlinkAndEmptyDirectory() throws IOException {
        assertEquals(List.of("symlink /x"),
                EventLog.of(NarBytes.nar().strs("(", "type", "symlink", "target", "/x", ")").bytes()));
        assertEquals(List.of("{", "}"), EventLog.of(NarBytes.nar().strs("(", "type", "directory", ")").bytes()));
    }

    @Test
    void readsExactlyTheNarAndLeavesWhatFollows() throws IOException {
        byte[] nar = NarBytes.file(false, bytes("hello\n"));
        ByteArrayInputStream in = new ByteArrayInputStream(concat(nar, bytes("NEXT")));
        assertEquals(120, NarReader.read(in, IGNORE));
        assertArrayEquals(bytes("NEXT"), in.readAllBytes());
    }

    @Test
    void contentsTheVisitorLeavesUnreadAreSkipped() throws IOException {
        byte[] nar = NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "a", "node", "(", "type").regular(false, new byte[20_000]).str(")")
                .strs("entry", "(", "name", "b", "node", "(", "type", "symlink", "target", "a", ")", ")")
                .str(")").bytes();
        AtomicReference<String> target = new AtomicReference<>();
        long size = NarReader.read(new ByteArrayInputStream(nar), new NarVisitor() {
            @Override
            public void regular(boolean executable, long size, InputStream contents) throws IOException {
                assertEquals(0, contents.read());
                assertEquals(10, contents.read(new byte[10]));
            }

            @Override
            public void symlink(byte[] bytes) {
                target.set(new String(bytes, UTF_8));
            }
        });
        assertEquals(nar.length, size);
        assertEquals("a", target.get());
    }

    @Test
    void contentsStreamEndsAtTheFileSizeAndDiesWithItsEvent() throws IOException {
        AtomicReference<InputStream> kept = new AtomicReference<>();
        NarReader.read(new ByteArrayInputStream(NarBytes.file(false, bytes("abc"))), new NarVisitor() {
            @Override
            public void regular(boolean executable, long size, InputStream contents) throws IOException {
                assertEquals(3, contents.available());
                assertArrayEquals(bytes("abc"), contents.readAllBytes());
                assertEquals(-1, contents.read());
                assertEquals(-1, contents.read(new byte[4], 0, 4));
                kept.set(contents);
            }
        });
        assertThrows(IllegalStateException.class, () -> kept.get().read());
    }

    @Test
    void visitorExceptionsReachTheCallerUnchanged() {
        IOException thrown = new IOException("visitor says no");
        IOException caught = assertThrows(IOException.class, () -> NarReader.read(
                new ByteArrayInputStream(NarBytes.file(false, bytes("x"))), new NarVisitor() {
                    @Override
                    public void regular(boolean executable, long size, InputStream contents) throws IOException {
                        throw thrown;
                    }
                }));
        assertSame(thrown, caught);
    }

    @Test
    void nestingFarDeeperThanAnyStackAllowsIsParsedWithoutRecursion() throws Exception {
        int depth = 50_000;
        byte[] bytes = NarBytes.nested(depth);
        long[] counts = new long[2];
        SmallStack.run(() -> NarReader.read(new ByteArrayInputStream(bytes), new NarVisitor() {
            @Override
            public void directoryStart() {
                counts[0]++;
            }

            @Override
            public void directoryEnd() {
                counts[1]++;
            }
        }));
        assertArrayEquals(new long[] {depth + 1, depth + 1}, counts);
    }

    // ---- what it rejects, one rule per test, with the offset of the offending bytes

    @Test
    void wrongMagic() {
        assertRejected(NarBytes.empty().str("nix-archive-2").bytes(), 0, "expected \"nix-archive-1\"",
                "found \"nix-archive-2\"");
        assertRejected(NarBytes.empty().str("(").bytes(), 0, "expected \"nix-archive-1\" but found \"(\"");
    }

    @Test
    void hugeStringLengthsAreRefusedBeforeAnythingIsAllocated() {
        assertRejected(NarBytes.empty().num(Long.MAX_VALUE).bytes(), 0, "a string of 9223372036854775807 bytes");
        assertRejected(NarBytes.empty().num(-1).bytes(), 0, "a string of 18446744073709551615 bytes");
        NarBytes nar = NarBytes.nar().strs("(", "type", "symlink", "target");
        int at = nar.offset();
        assertRejected(nar.num(1L << 40).bytes(), at, "expected a symlink target of at most 4095 bytes",
                "a string of 1099511627776 bytes");
    }

    @Test
    void unknownNodeType() {
        NarBytes nar = NarBytes.nar().strs("(", "type");
        int at = nar.offset();
        assertRejected(nar.strs("fifo", ")").bytes(), at,
                "expected \"regular\", \"symlink\" or \"directory\" but found \"fifo\"");
    }

    @Test
    void unknownFieldOfARegularFile() {
        NarBytes nar = NarBytes.nar().strs("(", "type", "regular");
        int at = nar.offset();
        assertRejected(nar.strs("contentz").num(0).str(")").bytes(), at,
                "NAR offset " + at + ": expected \"executable\" or \"contents\" but found \"contentz\"");
    }

    @Test
    void fieldsOutOfOrder() {
        NarBytes contentsFirst = NarBytes.nar().strs("(", "type", "regular", "contents").num(0);
        int at = contentsFirst.offset();
        assertRejected(contentsFirst.strs("executable", "", ")").bytes(), at, "expected \")\" but found \"executable\"");

        NarBytes typeLate = NarBytes.nar().str("(");
        at = typeLate.offset();
        assertRejected(typeLate.strs("regular", "type").bytes(), at, "expected \"type\" but found \"regular\"");

        NarBytes nameLate = NarBytes.nar().strs("(", "type", "directory", "entry", "(");
        at = nameLate.offset();
        assertRejected(nameLate.strs("node", "name").bytes(), at, "expected \"name\" but found \"node\"");

        NarBytes targetFirst = NarBytes.nar().strs("(", "type");
        at = targetFirst.offset();
        assertRejected(targetFirst.strs("target", "x", "symlink", ")").bytes(), at, "found \"target\"");
    }

    @Test
    void executableAnywhereButARegularFile() {
        NarBytes symlink = NarBytes.nar().strs("(", "type", "symlink");
        int at = symlink.offset();
        assertRejected(symlink.strs("executable", "", "target", "x", ")").bytes(), at,
                "expected \"target\" but found \"executable\"");

        NarBytes directory = NarBytes.nar().strs("(", "type", "directory");
        at = directory.offset();
        assertRejected(directory.strs("executable", "", ")").bytes(), at,
                "expected \"entry\" or \")\" but found \"executable\"");

        NarBytes twice = NarBytes.nar().strs("(", "type", "regular", "executable", "");
        at = twice.offset();
        assertRejected(twice.strs("executable", "", "contents").num(0).str(")").bytes(), at,
                "expected \"contents\" but found \"executable\"");
    }

    @Test
    void executableMarkerValueOtherThanEmpty() {
        NarBytes nar = NarBytes.nar().strs("(", "type", "regular", "executable");
        int at = nar.offset();
        assertRejected(nar.strs("1", "contents").num(0).str(")").bytes(), at, "expected \"\" but found \"1\"");
    }

    @Test
    void nonZeroPaddingOfAToken() {
        NarBytes prefix = NarBytes.nar().strs("(", "type");
        int at = prefix.offset() + 8 + "regular".length(); // its one byte of padding
        byte[] nar = prefix.regular(false, bytes("hi")).bytes();
        nar[at] = 1;
        assertRejected(nar, at, "NAR offset " + at + ": expected zero padding but found byte 0x01");
    }

    @Test
    void nonZeroPaddingOfContentsNameAndTarget() {
        byte[] file = NarBytes.file(false, bytes("hi"));
        int at = file.length - 16 - 6; // the 6 bytes of padding after "hi", before str(")")
        file[at + 5] = (byte) 0x80;
        assertRejected(file, at + 5, "expected zero padding but found byte 0x80");

        NarBytes dir = NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name");
        int nameAt = dir.offset();
        byte[] named = dir.strs("abc", "node", "(", "type", "directory", ")", ")", ")").bytes();
        named[nameAt + 8 + 3] = 7;
        assertRejected(named, nameAt + 8 + 3, "zero padding");

        NarBytes link = NarBytes.nar().strs("(", "type", "symlink", "target");
        int targetAt = link.offset();
        byte[] linked = link.strs("abc", ")").bytes();
        linked[targetAt + 8 + 7] = 1;
        assertRejected(linked, targetAt + 8 + 7, "zero padding");
    }

    @Test
    void truncationAnywhere() {
        byte[] nar = NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "a", "node", "(", "type").regular(false, bytes("0123456789")).str(")")
                .str(")").bytes();
        for (int length = 0; length < nar.length; length++) {
            NarFormatException e = assertRejected(Arrays.copyOf(nar, length), length,
                    "unexpected end of NAR at offset " + length + " while reading");
            assertTrue(e.getMessage().length() > 50, e.getMessage());
        }
    }

    @Test
    void truncationInsideContentsTheVisitorReads() {
        byte[] nar = Arrays.copyOf(NarBytes.file(false, new byte[1000]), 200);
        NarFormatException e = assertThrows(NarFormatException.class,
                () -> NarReader.read(new ByteArrayInputStream(nar), new EventLog()));
        assertEquals(200, e.offset());
        assertTrue(e.getMessage().contains("the contents of a regular file"), e.getMessage());
    }

    @Test
    void hugeDeclaredFileSizeOfATruncatedNarAllocatesNothing() {
        byte[] nar = NarBytes.nar().strs("(", "type", "regular", "contents").num(1L << 62).raw(new byte[5]).bytes();
        assertRejected(nar, nar.length, "unexpected end of NAR");
    }

    @Test
    void fileSizeWithTheHighBitSet() {
        NarBytes nar = NarBytes.nar().strs("(", "type", "regular", "contents");
        int at = nar.offset();
        assertRejected(nar.num(-8).str(")").bytes(), at, "expected a file size below 2^63 but found 18446744073709551608");
    }

    @Test
    void entriesOutOfOrder() {
        NarBytes nar = directoryUpToSecondName();
        int at = nar.offset();
        assertRejected(nar.strs("Second", "node", "(", "type", "directory", ")", ")", ")").bytes(), at,
                "expected an entry name sorting after the previous entry \"first\" but found \"Second\"");
    }

    @Test
    void entriesInUtf16OrderButNotByteOrder() {
        NarBytes nar = NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "\uD83D\uDE00", "node", "(", "type", "directory", ")", ")")
                .strs("entry", "(", "name");
        int at = nar.offset();
        assertRejected(nar.strs("\uFB01", "node", "(", "type", "directory", ")", ")", ")").bytes(), at,
                "sorting after the previous entry \"\\xf0\\x9f\\x98\\x80\"");
    }

    @Test
    void duplicateEntries() {
        NarBytes nar = directoryUpToSecondName();
        int at = nar.offset();
        assertRejected(nar.strs("first", "node", "(", "type", "directory", ")", ")", ")").bytes(), at,
                "found \"first\" (a duplicate)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "a/b", "/", "..\u0000", "a\u0000b"})
    void invalidEntryNames(String name) {
        NarBytes nar = NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name");
        int at = nar.offset();
        assertRejected(nar.strs(name, "node", "(", "type", "directory", ")", ")", ")").bytes(), at,
                "NAR offset " + at + ": expected a", "entry name");
    }

    @Test
    void entryNameLongerThan255Bytes() {
        NarBytes nar = NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name");
        int at = nar.offset();
        assertRejected(nar.strs("n".repeat(256), "node", "(", "type", "directory", ")", ")", ")").bytes(), at,
                "expected an entry name of at most 255 bytes but found a string of 256 bytes");
        byte[] longest = NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name")
                .strs("n".repeat(255), "node", "(", "type", "directory", ")", ")", ")").bytes();
        assertEquals(List.of("{", "entry " + "n".repeat(255), "{", "}", "}"), assertAccepted(longest));
    }

    @Test
    void invalidSymlinkTargets() {
        NarBytes empty = NarBytes.nar().strs("(", "type", "symlink", "target");
        int at = empty.offset();
        assertRejected(empty.strs("", ")").bytes(), at, "expected a non-empty symlink target but found \"\"");

        NarBytes nul = NarBytes.nar().strs("(", "type", "symlink", "target");
        assertRejected(nul.strs("a\0b", ")").bytes(), at, "expected a symlink target without NUL but found \"a\\x00b\"");

        NarBytes tooLong = NarBytes.nar().strs("(", "type", "symlink", "target");
        assertRejected(tooLong.strs("t".repeat(4096), ")").bytes(), at,
                "expected a symlink target of at most 4095 bytes but found a string of 4096 bytes");

        assertAccepted(NarBytes.nar().strs("(", "type", "symlink", "target", "t".repeat(4095), ")").bytes());
    }

    @Test
    void tokenLongerThanAnyTokenIsRefusedByItsLength() {
        NarBytes nar = NarBytes.nar().strs("(", "type");
        int at = nar.offset();
        assertRejected(nar.strs("directory-with-a-long-name", ")").bytes(), at,
                "but found a string of 26 bytes");
    }

    private static List<String> assertAccepted(byte[] nar) {
        try {
            return EventLog.of(nar);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static NarFormatException assertRejected(byte[] nar, long offset, String... fragments) {
        NarFormatException e = assertThrows(NarFormatException.class,
                () -> NarReader.read(new ByteArrayInputStream(nar), new EventLog()));
        assertEquals(offset, e.offset(), e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
        }
        return e;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }
}
