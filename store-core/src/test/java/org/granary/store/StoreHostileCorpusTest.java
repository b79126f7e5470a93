package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.granary.nar.NarFormatException;
import org.granary.nar.NarVisitor;
import org.granary.nar.testing.Sandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The corpus of hostile exports and registration texts (src/test/resources/org/granary/store/hostile,
 * written and documented by scripts/hostile-corpus.py; exports.tsv and registrations.tsv say why each is
 * there). Each export is read to its end marker and imported into a fresh store inside a sandbox: both
 * must give exactly the outcome the index names (with the offset), the import must leave only valid items
 * in the store dir, and the sandbox's canary must not change. Each registration text must be read or
 * refused at the named line.
 */
class StoreHostileCorpusTest {
    private Sandbox sandbox;

    @BeforeEach
    void createSandbox() throws IOException {
        sandbox = Sandbox.create();
    }

    @AfterEach
    void removeSandbox() throws IOException {
        sandbox.close();
    }

    @TestFactory
    Stream<DynamicTest> eachHostileExportGivesItsOutcomeAndLeavesOnlyValidItems() throws IOException {
        return table("exports.tsv").stream().map(f -> DynamicTest.dynamicTest(f[0] + ": " + f[3], () -> {
            byte[] export = resource(f[0]);
            Throwable read = null;
            try {
                ExportReader reader = new ExportReader(new ByteArrayInputStream(export),
                    StoreDir.of(HostileSeeds.STORE, Path.of("/")));
                while (reader.next(new NarVisitor() { }).isPresent()) {
                    continue;
                }
            } catch (IOException | RuntimeException e) {
                read = e;
            }
            assertEquals(f[1], outcome(read), f[0] + ": reading");
            Path root = sandbox.work().resolve(f[0]); // a fresh store for each case
            Throwable imported = null;
            try (LocalStore store = LocalStore.open(CrashWorkload.config(root))) {
                try {
                    store.importPaths(new BufferedInputStream(new ByteArrayInputStream(export)));
                } catch (IOException | RuntimeException e) {
                    imported = e;
                }
                assertEquals(f[2], outcome(imported), f[0] + ": importing");
                for (String entry : CrashHarness.storeEntries(store.config())) {
                    assertTrue(entry.endsWith(".lock") || store.queryPathFromHashPart(entry.substring(0, 32))
                        .filter(p -> p.baseName().equals(entry)).isPresent(), f[0] + ": " + entry + " left, not valid");
                }
            }
            sandbox.assertUntouched();
        }));
    }

    @TestFactory
    Stream<DynamicTest> eachHostileRegistrationTextGivesItsOutcome() throws IOException {
        return table("registrations.tsv").stream().map(f -> DynamicTest.dynamicTest(f[0] + ": " + f[3], () -> {
            InputStream in = new ByteArrayInputStream(resource(f[0]));
            RegistrationReader reader = f[1].equals("dumpdb") ? RegistrationReader.hashGiven(in, HostileSeeds.STORE)
                : RegistrationReader.regInfo(in, HostileSeeds.STORE);
            Throwable thrown = null;
            try {
                reader.readAll();
            } catch (IOException | RuntimeException e) {
                thrown = e;
            }
            assertEquals(f[2], outcome(thrown), f[0] + (thrown == null ? "" : ": " + thrown.getMessage()));
        }));
    }

    /** {@code ok}, or the exception's simple name with its offset or line where it carries one. */
    private static String outcome(Throwable t) {
        if (t == null) {
            return "ok";
        }
        String where = t instanceof NarFormatException e ? "@" + e.offset()
            : t instanceof ExportFormatException e ? "@" + e.offset()
            : t instanceof RegistrationFormatException e ? "@" + e.line() : "";
        return t.getClass().getSimpleName() + where;
    }

    private static List<String[]> table(String index) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : new String(resource(index), StandardCharsets.UTF_8).split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                rows.add(line.split("\t"));
            }
        }
        return rows;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(StoreHostileCorpusTest.class.getResourceAsStream("hostile/" + name),
                name)) {
            return in.readAllBytes();
        }
    }
}
