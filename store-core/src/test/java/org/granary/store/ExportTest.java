package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.granary.nar.NarFormatException;
import org.granary.nar.NarVisitor;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportTest {
    private static final StoreDir STORE = StoreDir.DEFAULT;
    private static final StorePath A = path("0a", "alpha");
    private static final StorePath B = path("1b", "beta");
    private static final StorePath C = path("2c", "gamma");
    private static final StorePath DRV = path("3d", "gamma.drv");
    private static final NarVisitor IGNORE = new NarVisitor() {};

    @TempDir
    Path tmp;

    static StorePath path(String prefix, String name) {
        return StorePath.parse("/gnu/store/" + prefix + "x".repeat(30) + "-" + name, STORE);
    }

    private List<ExportedItem> readAll(byte[] export) throws IOException {
        ExportReader reader = new ExportReader(new ByteArrayInputStream(export), STORE);
        List<ExportedItem> items = new ArrayList<>();
        for (Optional<ExportedItem> item; (item = reader.next(IGNORE)).isPresent(); ) {
            items.add(item.get());
        }
        assertEquals(export.length, reader.offset(), "the reader stops right after the end marker");
        return items;
    }

    private <T extends Throwable> T rejects(Class<T> type, byte[] export, String... fragments) {
        T e = assertThrows(type, () -> readAll(export));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
        }
        return e;
    }

    /** A valid item of C (with a one-file NAR), up to and including its reference count. */
    private ExportBytes itemUpToCount(long count) {
        return new ExportBytes().num(1).nar(tmp, "gamma").num(ExportWire.MAGIC).str(C.toString()).num(count);
    }

    @Test
    void writesItemsThatReadBackWithTheirHashSizeReferencesAndDeriver() throws IOException {
        List<TestTrees.Tree> trees = TestTrees.standard(Files.createDirectory(tmp.resolve("trees")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExportWriter writer = new ExportWriter(out);
        ExportedItem a = writer.write(A, trees.get(0).path(), List.of(), Optional.empty());
        ExportedItem c = writer.write(C, trees.get(1).path(), List.of(C, B, A), Optional.of(DRV));
        writer.finish();
        assertEquals(Hash.ofNar(trees.get(0).path(), HashAlgorithm.SHA256), a.narHash());
        assertEquals(Set.of(A, B, C), c.references());
        assertEquals(Optional.of(DRV), c.deriver());
        assertEquals(List.of(a, c), readAll(out.toByteArray()));
    }

    @Test
    void writesReferencesSortedByBaseName() throws IOException {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExportWriter writer = new ExportWriter(out);
        writer.write(C, file, List.of(C, A, B), Optional.empty());
        writer.finish();
        byte[] expectedTail = new ExportBytes().num(3).str(A.toString()).str(B.toString()).str(C.toString())
                .str("").num(0).num(0).bytes();
        byte[] all = out.toByteArray();
        assertArrayEquals(expectedTail, java.util.Arrays.copyOfRange(all, all.length - expectedTail.length, all.length));
    }

    @Test
    void anEmptyExportIsTheEndMarkerAlone() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new ExportWriter(out).finish();
        assertArrayEquals(new byte[8], out.toByteArray());
        assertEquals(List.of(), readAll(out.toByteArray()));
    }

    @Test
    void theWriterRefusesUseAfterFinishAndReferencesOfAnotherStoreDir() throws IOException {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        ExportWriter writer = new ExportWriter(new ByteArrayOutputStream());
        StorePath elsewhere = StorePath.parse("/nix/store/" + "0".repeat(32) + "-x", "/nix/store");
        assertThrows(IllegalArgumentException.class, () -> writer.write(A, file, List.of(elsewhere), Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> writer.write(A, file, List.of(B, B), Optional.empty()));
        writer.finish();
        assertThrows(IllegalStateException.class, () -> writer.write(A, file, List.of(), Optional.empty()));
        assertThrows(IllegalStateException.class, writer::finish);
    }

    @Test
    void readsASignatureAfterMarkerOne() throws IOException {
        byte[] export = itemUpToCount(0).str("").num(1).str("(signature (data ...))").num(0).bytes();
        ExportedItem item = readAll(export).get(0);
        assertEquals(Optional.of("(signature (data ...))"), item.signature());
        assertEquals(Optional.empty(), item.deriver());
    }

    @Test
    void rejectsAnItemMarkerOtherThanZeroOrOne() {
        ExportFormatException e = rejects(ExportFormatException.class, new ExportBytes().num(2).bytes(),
                "export offset 0: expected 1 (an item follows) or 0 (the end of the export) but found 2");
        assertEquals(0, e.offset());
    }

    @Test
    void rejectsAStreamWithoutEndMarker() {
        rejects(ExportFormatException.class, new ExportBytes().bytes(),
                "unexpected end of export at offset 0 while reading the item marker");
        rejects(ExportFormatException.class, itemUpToCount(0).str("").num(0).bytes(),
                "while reading the item marker");
    }

    @Test
    void rejectsAWrongMagicAtItsOffset() {
        ExportBytes bytes = new ExportBytes().num(1).nar(tmp, "x");
        int at = bytes.size();
        ExportFormatException e = rejects(ExportFormatException.class, bytes.num(0x4558494fL).bytes(),
                "expected the export magic 0x4558494e (\"NIXE\") but found 0x4558494f");
        assertEquals(at, e.offset());
    }

    @Test
    void reportsAMalformedNarWithItsOffsetInTheStream() {
        byte[] valid = new ExportBytes().num(1).nar(tmp, "x").bytes();
        valid[8 + 8 + 2] = 'X'; // inside "nix-archive-1", whose string starts at stream offset 8
        NarFormatException e = rejects(NarFormatException.class, valid, "export item 1", "NAR starting at export offset 8");
        assertEquals(8, e.offset());
    }

    @Test
    void rejectsPathsOutsideTheStoreDirOrMalformed() {
        String other = "/nix/store/" + "0".repeat(32) + "-x";
        rejects(ExportFormatException.class, new ExportBytes().num(1).nar(tmp, "x").num(ExportWire.MAGIC).str(other).bytes(),
                "the item's store path as a store path of /gnu/store", "not in store dir");
        rejects(ExportFormatException.class, itemUpToCount(1).str("/gnu/store/short").bytes(), "reference 1 of 1");
        rejects(ExportFormatException.class, itemUpToCount(0).str("/gnu/store/eeee").bytes(), "the deriver");
    }

    @Test
    void refusesAnOverlongStringBeforeReadingIt() {
        byte[] export = new ExportBytes().num(1).nar(tmp, "x").num(ExportWire.MAGIC).num(Long.MAX_VALUE).bytes();
        rejects(ExportFormatException.class, export, "of at most 266 bytes but found a length of 9223372036854775807");
        rejects(ExportFormatException.class, itemUpToCount(0).str("").num(1).num(1L << 40).bytes(),
                "a signature of at most 65536 bytes");
    }

    @Test
    void aHugeReferenceCountIsReadOneByOneUntilTheDataEnds() {
        byte[] export = itemUpToCount(-1L).str(A.toString()).str(B.toString()).bytes();
        rejects(ExportFormatException.class, export,
                "unexpected end of export", "reference 3 of 18446744073709551615");
    }

    @Test
    void rejectsARepeatedReference() {
        rejects(ExportFormatException.class, itemUpToCount(2).str(A.toString()).str(A.toString()).bytes(),
                "expected a reference not given before but found a repeated " + A);
    }

    @Test
    void rejectsNonZeroPaddingAndNonUtf8() {
        byte[] export = itemUpToCount(1).str("/gnu/store/x").bytes();
        export[export.length - 1] = 1;
        rejects(ExportFormatException.class, export, "zero padding after reference 1", "byte 0x01");
        byte[] latin = itemUpToCount(1).num(1).raw(new byte[] {(byte) 0xe9, 0, 0, 0, 0, 0, 0, 0}).bytes();
        rejects(ExportFormatException.class, latin, "in UTF-8");
    }

    @Test
    void rejectsASignatureMarkerOtherThanZeroOrOne() {
        rejects(ExportFormatException.class, itemUpToCount(0).str("").num(2).bytes(),
                "expected the signature marker 0 (none) or 1 (a signature follows) but found 2");
    }

    @Test
    void refusesUseAfterAFailureAndReturnsEmptyAfterTheEnd() throws IOException {
        ExportReader broken = new ExportReader(new ByteArrayInputStream(new ExportBytes().num(7).bytes()), STORE);
        assertThrows(ExportFormatException.class, () -> broken.next(IGNORE));
        assertThrows(IllegalStateException.class, () -> broken.next(IGNORE));
        ExportReader empty = new ExportReader(new ByteArrayInputStream(new ExportBytes().num(0).num(5).bytes()), STORE);
        assertFalse(empty.next(IGNORE).isPresent());
        assertFalse(empty.next(IGNORE).isPresent());
        assertEquals(8, empty.offset(), "nothing after the end marker is read");
    }

    @Test
    void restoresEachItemAndLeavesNothingWhenItsTrailerIsBad() throws IOException {
        Path tree = TestTrees.symlinks(tmp.resolve("tree"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExportWriter writer = new ExportWriter(out);
        ExportedItem written = writer.write(A, tree, List.of(), Optional.empty());
        writer.finish();
        ExportReader reader = new ExportReader(new ByteArrayInputStream(out.toByteArray()), STORE);
        Path target = tmp.resolve("restored");
        assertEquals(Optional.of(written), reader.restoreNext(target));
        assertEquals(written.narHash(), Hash.ofNar(target, HashAlgorithm.SHA256));
        assertFalse(reader.restoreNext(tmp.resolve("unused")).isPresent());
        assertFalse(Files.exists(tmp.resolve("unused")));

        byte[] bad = out.toByteArray();
        bad[bad.length - 16] = 2; // the signature marker
        ExportReader badReader = new ExportReader(new ByteArrayInputStream(bad), STORE);
        Path badTarget = tmp.resolve("bad");
        assertThrows(ExportFormatException.class, () -> badReader.restoreNext(badTarget));
        assertFalse(Files.exists(badTarget, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }
}
