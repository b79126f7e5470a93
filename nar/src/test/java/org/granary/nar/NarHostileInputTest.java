package org.granary.nar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import org.granary.nar.testing.Allocation;
import org.granary.nar.testing.FullTries;
import org.granary.nar.testing.Mutator;
import org.granary.nar.testing.OwnExceptions;
import org.granary.nar.testing.Sandbox;

/**
 * Hostile NARs (issue 7): mutations of generated trees and of hand-made attacks (symlinks to a canary
 * outside the target followed by entries that would reach through them, names that climb, huge lengths,
 * deep nesting). {@link NarReader} accepts each or refuses it with a {@link NarFormatException}, and
 * allocates nothing in proportion to a length it reads; {@link NarRestorer} either creates exactly the
 * NAR at its target or leaves nothing, refusing with its own exceptions, and never writes outside the
 * target, through a symlink or otherwise (a sandbox's canary is checked after every try).
 *
 * <p>The tries are a plain build's; {@code -Pfull-reliability} runs 100,000 of each
 * ({@link FullTries}). The nastiest inputs are kept as regression cases in {@link NarHostileCorpusTest}.
 */
class NarHostileInputTest {
    /** Heap a read may use whatever the input: buffers, names, one exception with its stack trace. */
    static final long ALLOCATION_ALLOWANCE = 1 << 20;

    private static Sandbox sandbox;

    /** The NAR's own tokens, and names and targets that aim outside. */
    static final Mutator MUTATOR = new Mutator(dictionary());

    @AfterContainer
    static void removeSandbox() throws IOException {
        if (sandbox != null) {
            sandbox.close();
            sandbox = null;
        }
    }

    private static Sandbox sandbox() throws IOException {
        if (sandbox == null) {
            sandbox = Sandbox.create();
        }
        return sandbox;
    }

    @Provide
    Arbitrary<byte[]> hostileNars() throws IOException {
        Arbitrary<byte[]> generated = TreeModel.smallTrees(3).map(TreeModel::nar);
        Arbitrary<byte[]> attacks = Arbitraries.of(attacks(sandbox().canary()));
        Arbitrary<byte[]> seeds = Arbitraries.frequencyOf(Tuple.of(3, generated), Tuple.of(2, attacks));
        return Arbitraries.frequencyOf(Tuple.of(1, seeds), Tuple.of(6, MUTATOR.mutationsOf(seeds)));
    }

    @Property(tries = 1000, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void theReaderAcceptsOrRefusesWithItsOwnExceptionAndAllocatesNoLength(@ForAll("hostileNars") byte[] nar)
            throws Throwable {
        InputStream in = new ByteArrayInputStream(nar);
        Throwable[] thrown = {null};
        long[] length = {-1};
        long allocated = Allocation.bytesAllocatedBy(() -> length[0] = NarReader.read(in, new NarVisitor() { }),
                t -> thrown[0] = t);
        OwnExceptions.expect(thrown[0], nar, NarFormatException.class);
        if (thrown[0] == null) {
            assertTrue(length[0] <= nar.length, "a NAR longer than its input");
        }
        assertTrue(allocated < ALLOCATION_ALLOWANCE + 8L * nar.length, "reading " + nar.length
                + " bytes allocated " + allocated + " bytes");
    }

    @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    @FullTries.Costly
    void theRestorerCreatesExactlyTheNarOrNothingAndNeverWritesOutside(@ForAll("hostileNars") byte[] nar)
            throws Throwable {
        Sandbox box = sandbox();
        Path target = box.work().resolve("target");
        try {
            Throwable thrown = null;
            long length = -1;
            try {
                length = NarRestorer.restore(new ByteArrayInputStream(nar), target);
            } catch (Throwable t) {
                thrown = t;
            }
            OwnExceptions.expect(thrown, nar, NarFormatException.class, NarRestoreException.class);
            box.assertUntouched();
            if (thrown != null) {
                assertEquals(List.of(), box.workEntries(), "left behind by a refused restore");
            } else {
                assertEquals(List.of("target"), box.workEntries(), "the restore made its target and nothing else");
                ByteArrayOutputStream dumped = new ByteArrayOutputStream();
                new NarDumper().dump(target, dumped);
                assertArrayEquals(Arrays.copyOf(nar, (int) length), dumped.toByteArray(),
                        "the restored tree dumps to the NAR read");
            }
        } finally {
            box.clearWork();
        }
    }

    /**
     * Hand-made attacks: each aims at the canary through a symlink or a climbing name, or at memory
     * through a length; their mutations explore the neighbourhood.
     */
    static List<byte[]> attacks(Path canary) {
        String absolute = canary.toString();
        List<byte[]> attacks = new ArrayList<>();
        // A symlink to the canary, then a directory of the same name holding a file (a duplicate entry).
        attacks.add(NarBytes.nar().strs("(", "type", "directory",
                "entry", "(", "name", "l", "node", "(", "type", "symlink", "target", absolute, ")", ")",
                "entry", "(", "name", "l", "node", "(", "type", "directory",
                "entry", "(", "name", "secret", "node", "(", "type").regular(false, bytes("owned\n"))
                .strs(")", ")", ")", ")").bytes());
        // A symlink to the canary, then a file named through it.
        attacks.add(NarBytes.nar().strs("(", "type", "directory",
                "entry", "(", "name", "l", "node", "(", "type", "symlink", "target", "../../canary", ")", ")",
                "entry", "(", "name", "l/secret", "node", "(", "type").regular(false, bytes("owned\n"))
                .strs(")", ")").bytes());
        // Names that climb.
        for (String name : List.of("..", ".", "../canary", "", "a\0b")) {
            attacks.add(NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name", name, "node", "(",
                    "type").regular(false, bytes("owned\n")).strs(")", ")").bytes());
        }
        // Symlinks out, followed by sorted entries: the links are created, never followed.
        attacks.add(NarBytes.nar().strs("(", "type", "directory",
                "entry", "(", "name", "a", "node", "(", "type", "symlink", "target", "..", ")", ")",
                "entry", "(", "name", "b", "node", "(", "type", "symlink", "target", absolute + "/secret", ")", ")",
                "entry", "(", "name", "c", "node", "(", "type", "directory",
                "entry", "(", "name", "d", "node", "(", "type").regular(true, bytes("#!/bin/sh\n"))
                .strs(")", ")", ")", ")").bytes());
        attacks.add(NarBytes.nar().strs("(", "type", "symlink", "target", absolute + "/secret", ")").bytes());
        // Lengths: a file of 2^62 bytes with 16 present, a name and a target of 2^62 bytes.
        attacks.add(NarBytes.nar().strs("(", "type", "regular", "contents").num(1L << 62).zeros(16).bytes());
        attacks.add(NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name").num(1L << 62)
                .zeros(16).bytes());
        attacks.add(NarBytes.nar().strs("(", "type", "symlink", "target").num(-1).zeros(16).bytes());
        // Deep nesting (the corpus has one that outgrows PATH_MAX on the way down).
        attacks.add(NarBytes.nested(200));
        return attacks;
    }

    private static List<byte[]> dictionary() {
        List<byte[]> tokens = new ArrayList<>();
        for (String token : List.of("(", ")", "type", "regular", "executable", "", "contents", "symlink", "target",
                "directory", "entry", "name", "node", "nix-archive-1", "..", ".", "a", "b", "l", "a/b", "l/secret",
                "/", "\0", "../../canary")) {
            tokens.add(NarBytes.empty().str(token).bytes());
        }
        tokens.add(NarBytes.empty().num(1L << 62).bytes());
        tokens.add(NarBytes.empty().strs("entry", "(", "name", "l", "node", "(", "type", "symlink", "target", "..",
                ")", ")").bytes());
        return tokens;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
