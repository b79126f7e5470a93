package org.granary.nar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Properties of the format on generated trees: dumping is faithful and restoring inverts it; every
 * truncation or single-byte change of a NAR is refused as malformed or is itself a NAR the writer
 * reproduces byte for byte; the reader never reads past a NAR's end.
 */
class NarPropertyTest {

    /** Mostly directories at the top, sometimes a file or a symlink. */
    @Provide
    Arbitrary<TreeModel> trees() {
        return Arbitraries.frequencyOf(Tuple.of(1, TreeModel.trees(3)), Tuple.of(3, TreeModel.directories(3)));
    }

    /** Smaller trees for the exhaustive mutation property: a few hundred to a few thousand bytes. */
    @Provide
    Arbitrary<TreeModel> smallTrees() {
        return TreeModel.trees(2).filter(tree -> TreeModel.nar(tree).length < 3000);
    }

    // ---- (1) dump -> restore -> dump is the identity, and the dump is the NAR the model says

    @Property(tries = 60)
    void dumpRestoreDumpIsTheIdentity(@ForAll("trees") TreeModel tree) throws IOException {
        Path scratch = Files.createTempDirectory("granary-nar-property");
        try {
            Path original = scratch.resolve("original");
            TreeModel.create(tree, original);
            byte[] nar = NarDumperTest.dump(original);
            assertArrayEquals(TreeModel.nar(tree), nar, "the dump is the NAR of the generated tree");

            Path restored = scratch.resolve("restored");
            assertEquals(nar.length, NarRestorer.restore(new ByteArrayInputStream(nar), restored));
            assertArrayEquals(nar, NarDumperTest.dump(restored), "dump of the restored tree");

            MessageDigest sha256 = NarDumperTest.sha256();
            assertEquals(new NarDigest("SHA-256", sha256.digest(nar), nar.length),
                    new NarDumper().digest(restored, sha256));
        } finally {
            deleteTree(scratch);
        }
    }

    // ---- (2) every truncation and single-byte change: rejected as malformed, or exactly a NAR

    @Property(tries = 12)
    void everyTruncationIsRejected(@ForAll("smallTrees") TreeModel tree) {
        byte[] nar = TreeModel.nar(tree);
        for (int length = 0; length < nar.length; length++) {
            byte[] truncated = Arrays.copyOf(nar, length);
            NarFormatException e = assertRejectedOrExact(truncated);
            assertTrue(e != null, "a truncated NAR of " + length + " bytes was accepted");
            assertEquals(length, e.offset(), e.getMessage());
        }
    }

    @Property(tries = 12)
    void everySingleByteChangeIsRejectedOrExact(@ForAll("smallTrees") TreeModel tree) {
        byte[] nar = TreeModel.nar(tree);
        byte[] mutated = nar.clone();
        for (int i = 0; i < nar.length; i++) {
            for (int value : new int[] {nar[i] ^ 1, nar[i] ^ 0x80, nar[i] + 8, 0, 0xff, '/', '.', ')'}) {
                if ((byte) value != nar[i]) {
                    mutated[i] = (byte) value;
                    assertRejectedOrExact(mutated);
                }
            }
            mutated[i] = nar[i];
        }
    }

    @Example
    void everyValueAtEveryPositionOfASmallNar() {
        byte[] nar = NarBytes.nar().strs("(", "type", "directory")
                .strs("entry", "(", "name", "a", "node", "(", "type").regular(true, new byte[] {'h', 'i'}).str(")")
                .strs("entry", "(", "name", "d", "node", "(", "type", "directory")
                .strs("entry", "(", "name", "e", "node", "(", "type").regular(false, new byte[0]).strs(")", ")", ")")
                .strs("entry", "(", "name", "l", "node", "(", "type", "symlink", "target", "a", ")", ")")
                .str(")").bytes();
        byte[] mutated = nar.clone();
        int accepted = 0;
        for (int i = 0; i < nar.length; i++) {
            for (int value = 0; value < 256; value++) {
                if ((byte) value != nar[i]) {
                    mutated[i] = (byte) value;
                    if (assertRejectedOrExact(mutated) == null) {
                        accepted++;
                    }
                }
            }
            mutated[i] = nar[i];
        }
        // Only changes to file contents and to name and target characters can leave a valid NAR.
        assertTrue(accepted > 0 && accepted < 10 * 256, "accepted " + accepted + " mutations");
    }

    /**
     * Reads {@code nar} back into a writer: returns the NarFormatException if it is rejected, or null if it
     * (or a prefix of it, which is then a whole NAR) is accepted, in which case the writer must have
     * reproduced what was read exactly. Any other outcome fails.
     */
    private static NarFormatException assertRejectedOrExact(byte[] nar) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(nar.length);
        long size;
        try {
            size = NarReader.read(new ByteArrayInputStream(nar), new Rewriter(NarWriter.begin(out)));
        } catch (NarFormatException e) {
            assertTrue(e.offset() >= 0 && e.offset() <= nar.length, e.getMessage());
            return e;
        } catch (Throwable e) {
            return fail("neither rejected as malformed nor accepted: " + e, e);
        }
        // A change can make a shorter NAR of a prefix (a file size grown over tokens that, read as contents,
        // leave the rest a valid end): the reader stops at that NAR's end, as it must, and it is exact.
        assertTrue(size <= nar.length, "accepted more than the input");
        assertArrayEquals(Arrays.copyOf(nar, (int) size), out.toByteArray(),
                "accepted, but the writer does not reproduce it");
        return null;
    }

    // ---- (3) the reader never reads past the end of the NAR

    @Property(tries = 200)
    void theReaderLeavesWhatFollowsTheNar(@ForAll("trees") TreeModel tree,
                                          @ForAll byte[] garbage) throws IOException {
        byte[] nar = TreeModel.nar(tree);
        byte[] both = Arrays.copyOf(nar, nar.length + garbage.length);
        System.arraycopy(garbage, 0, both, nar.length, garbage.length);
        InputStream in = new ByteArrayInputStream(both);
        assertEquals(nar.length, NarReader.read(in, new EventLog()));
        assertArrayEquals(garbage, in.readAllBytes());
    }

    @Property(tries = 100)
    void theReaderNeverAsksForABytePastTheEnd(@ForAll("trees") TreeModel tree) throws IOException {
        byte[] nar = TreeModel.nar(tree);
        // A stream whose reads may not reach beyond the NAR: any request that would is a failure.
        InputStream strict = new ByteArrayInputStream(nar) {
            @Override
            public synchronized int read() {
                assertTrue(pos < count, "read() at the end of the NAR");
                return super.read();
            }

            @Override
            public synchronized int read(byte[] b, int off, int len) {
                assertTrue(len <= count - pos, "asked for " + len + " bytes with " + (count - pos) + " left");
                return super.read(b, off, len);
            }
        };
        assertEquals(nar.length, NarReader.read(strict, new NarVisitor() {}));
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
