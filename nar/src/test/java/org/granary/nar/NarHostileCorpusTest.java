package org.granary.nar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.granary.nar.testing.Allocation;
import org.granary.nar.testing.Sandbox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The corpus of hostile NARs (src/test/resources/org/granary/nar/hostile, written and documented by
 * scripts/hostile-corpus.py; index.tsv says why each is there): each is read and restored into a sandbox
 * and must give exactly the outcome the index names — accepted, or refused with the named exception at
 * the named offset — leave nothing behind when refused, allocate nothing in proportion to its lengths,
 * and leave the sandbox's canary (which its symlinks and names aim at) untouched.
 */
class NarHostileCorpusTest {
    private static Sandbox sandbox;

    /** One line of the index. */
    record Case(String file, String reader, String restore, String why) {
        @Override
        public String toString() {
            return file + " (" + why + ")";
        }
    }

    @BeforeAll
    static void createSandbox() throws IOException {
        sandbox = Sandbox.create();
    }

    @AfterAll
    static void removeSandbox() throws IOException {
        sandbox.close();
    }

    @TestFactory
    Stream<DynamicTest> eachHostileNarGivesItsOutcomeAndTouchesNothingOutside() throws IOException {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.file(), () -> check(c)));
    }

    private static void check(Case c) throws Throwable {
        byte[] nar = resource(c.file());
        Throwable[] thrown = {null};
        InputStream in = new ByteArrayInputStream(nar);
        long allocated = Allocation.bytesAllocatedBy(() -> NarReader.read(in, new NarVisitor() { }),
                t -> thrown[0] = t);
        assertEquals(c.reader(), outcome(thrown[0]), c + ": the reader's outcome");
        assertTrue(allocated < NarHostileInputTest.ALLOCATION_ALLOWANCE + 8L * nar.length,
                c + ": reading allocated " + allocated + " bytes");

        Path target = sandbox.work().resolve("target");
        Throwable failure = null;
        try {
            NarRestorer.restore(new ByteArrayInputStream(nar), target);
        } catch (IOException | RuntimeException e) {
            failure = e;
        }
        try {
            assertEquals(c.restore(), outcome(failure), c + ": the restore's outcome");
            sandbox.assertUntouched();
            assertEquals(failure == null ? List.of("target") : List.of(), sandbox.workEntries(),
                    c + ": what the restore left");
        } finally {
            sandbox.clearWork();
        }
    }

    /** {@code ok}, or the exception's simple name with the offset of a {@link NarFormatException}. */
    static String outcome(Throwable t) {
        if (t == null) {
            return "ok";
        }
        return t.getClass().getSimpleName() + (t instanceof NarFormatException e ? "@" + e.offset() : "");
    }

    private static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String line : new String(resource("index.tsv"), StandardCharsets.UTF_8).split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                String[] f = line.split("\t");
                cases.add(new Case(f[0], f[1], f[2], f[3]));
            }
        }
        return cases;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(NarHostileCorpusTest.class.getResourceAsStream("hostile/" + name),
                name)) {
            return in.readAllBytes();
        }
    }
}
