package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.granary.nar.FileTrees;
import org.granary.nar.NarFormatException;
import org.granary.nar.NarRestoreException;
import org.granary.nar.NarVisitor;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.Test;

class ExportPropertyTest {
    private static final StoreDir STORE = StoreDir.DEFAULT;
    private static final NarVisitor IGNORE = new NarVisitor() {};
    /** One valid export of a few items, one of them signed; the corruption tests mutate copies of it. */
    private static final byte[] VALID = validExport();

    /** A generated item: its path, what its files are, which earlier items it refers to, a deriver. */
    record ItemSpec(StorePath path, int shape, byte[] contents, List<Integer> references, boolean self,
                    Optional<StorePath> deriver) {}

    @Property(tries = 60)
    void whatTheWriterWritesTheReaderReadsBack(@ForAll("items") List<ItemSpec> specs) throws IOException {
        Path dir = Files.createTempDirectory("export-property-");
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ExportWriter writer = new ExportWriter(out);
            List<ExportedItem> written = new ArrayList<>();
            for (int i = 0; i < specs.size(); i++) {
                ItemSpec spec = specs.get(i);
                List<StorePath> references = new ArrayList<>();
                spec.references().stream().map(r -> specs.get(r % specs.size()).path()).distinct().forEach(references::add);
                if (spec.self() && !references.contains(spec.path())) {
                    references.add(spec.path());
                }
                Path files = files(dir.resolve("item" + i), spec);
                written.add(writer.write(spec.path(), files, references, spec.deriver()));
                assertEquals(Hash.ofNar(files, HashAlgorithm.SHA256), written.get(i).narHash());
            }
            writer.finish();
            byte[] export = out.toByteArray();
            ExportReader reader = new ExportReader(new ByteArrayInputStream(export), STORE);
            for (ExportedItem expected : written) {
                Path target = dir.resolve("restored-" + expected.path().baseName());
                assertEquals(Optional.of(expected), reader.restoreNext(target));
                assertEquals(expected.narHash(), Hash.ofNar(target, HashAlgorithm.SHA256));
            }
            assertFalse(reader.next(IGNORE).isPresent());
            assertEquals(export.length, reader.offset());
        } finally {
            FileTrees.deleteTree(dir);
        }
    }

    @Test
    void everyTruncationIsRejectedAsMalformed() {
        for (int length = 0; length < VALID.length; length++) {
            byte[] prefix = java.util.Arrays.copyOf(VALID, length);
            IOException e = parseFailure(prefix);
            assertTrue(e instanceof ExportFormatException || e instanceof NarFormatException,
                    "truncated to " + length + ": " + e);
        }
    }

    @Test
    void everySingleByteFlipIsRejectedAsMalformedOrParses() {
        for (int at = 0; at < VALID.length; at++) {
            for (int mask : new int[] {0x01, 0x20, 0x80, 0xff}) {
                byte[] changed = VALID.clone();
                changed[at] ^= (byte) mask;
                checkRejectedAsMalformedOrParses(changed, "byte " + at + " xor " + mask);
            }
        }
    }

    @Property(tries = 3000)
    void anySingleByteChangeIsRejectedAsMalformedOrParses(@ForAll @IntRange(max = 1 << 20) int where,
                                                          @ForAll byte value) {
        byte[] changed = VALID.clone();
        changed[where % changed.length] = value;
        checkRejectedAsMalformedOrParses(changed, "byte " + where % changed.length + " set to " + value);
    }

    @Property(tries = 150)
    void aChangedExportRestoresWhollyOrLeavesNothing(@ForAll @IntRange(max = 1 << 20) int where, @ForAll byte value)
            throws IOException {
        byte[] changed = VALID.clone();
        changed[where % changed.length] = value;
        Path dir = Files.createTempDirectory("export-restore-");
        try {
            ExportReader reader = new ExportReader(new ByteArrayInputStream(changed), STORE);
            for (int i = 0; ; i++) {
                Path target = dir.resolve("item" + i);
                Optional<ExportedItem> item;
                try {
                    item = reader.restoreNext(target);
                } catch (ExportFormatException | NarFormatException | NarRestoreException e) {
                    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS), "left " + target + " after " + e);
                    break;
                }
                if (item.isEmpty()) {
                    break;
                }
                assertEquals(item.get().narHash(), Hash.ofNar(target, HashAlgorithm.SHA256));
            }
        } finally {
            FileTrees.deleteTree(dir);
        }
    }

    private static void checkRejectedAsMalformedOrParses(byte[] export, String change) {
        try {
            ExportReader reader = new ExportReader(new ByteArrayInputStream(export), STORE);
            while (reader.next(IGNORE).isPresent()) {
                // read every item
            }
        } catch (ExportFormatException | NarFormatException e) {
            assertTrue(e.getMessage().contains("offset"), change + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw new AssertionError(change + ": neither parsed nor rejected as malformed", e);
        }
    }

    private static IOException parseFailure(byte[] export) {
        try {
            ExportReader reader = new ExportReader(new ByteArrayInputStream(export), STORE);
            while (reader.next(IGNORE).isPresent()) {
                // read every item
            }
        } catch (IOException e) {
            return e;
        }
        throw new AssertionError("an export of " + export.length + " bytes parsed");
    }

    private static byte[] validExport() {
        try {
            Path dir = Files.createTempDirectory("export-valid-");
            try {
                Path tree = Files.createDirectory(dir.resolve("tree"));
                TestTrees.regular(tree.resolve("bin"), 9, 0755);
                TestTrees.regular(tree.resolve("data"), 13, 0644);
                TestTrees.symlink(tree.resolve("link"), "data");
                Path file = TestTrees.regular(dir.resolve("file"), 3, 0644);
                StorePath lib = ExportTest.path("0l", "lib");
                StorePath app = ExportTest.path("1a", "app");
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ExportWriter writer = new ExportWriter(out);
                writer.write(lib, file, List.of(), Optional.empty());
                writer.write(app, tree, List.of(lib, app), Optional.of(ExportTest.path("2d", "app.drv")));
                byte[] written = out.toByteArray();
                // A signed item, as guix archive --export writes, then the end marker.
                ExportBytes signed = new ExportBytes().raw(written).num(1).nar(dir, "signed")
                        .num(ExportWire.MAGIC).str(ExportTest.path("3s", "signed").toString()).num(1).str(lib.toString())
                        .str("").num(1).str("(signature (data (hash sha256 #00#)))").num(0);
                return signed.bytes();
            } finally {
                FileTrees.deleteTree(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path files(Path at, ItemSpec spec) throws IOException {
        switch (spec.shape()) {
            case 0 -> Files.write(at, spec.contents());
            case 1 -> Files.setPosixFilePermissions(Files.write(at, spec.contents()), PosixFilePermissions.fromString("rwxr-xr-x"));
            case 2 -> TestTrees.symlink(at, "target-" + spec.contents().length);
            default -> {
                Files.createDirectory(at);
                Files.write(at.resolve("a"), spec.contents());
                Files.createDirectory(at.resolve("empty"));
                TestTrees.symlink(at.resolve("link"), "a");
            }
        }
        return at;
    }

    @Provide
    Arbitrary<List<ItemSpec>> items() {
        Arbitrary<StorePath> paths = Combinators.combine(
                Arbitraries.strings().withChars(NixBase32.ALPHABET).ofLength(32),
                Arbitraries.strings().withChars("abcxyz-._+?=0123456789").ofMinLength(1).ofMaxLength(40)
                        .filter(n -> !n.startsWith(".")))
                .as((hash, name) -> new StorePath("/gnu/store", hash, name));
        Arbitrary<ItemSpec> item = Combinators.combine(
                paths,
                Arbitraries.integers().between(0, 3),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(100),
                Arbitraries.integers().between(0, 10).list().ofMaxSize(4),
                Arbitraries.of(true, false),
                paths.map(p -> new StorePath(p.storeDir(), p.hashPart(), "d.drv")).optional())
                .as(ItemSpec::new);
        return item.list().ofMinSize(1).ofMaxSize(4).uniqueElements(ItemSpec::path);
    }
}
