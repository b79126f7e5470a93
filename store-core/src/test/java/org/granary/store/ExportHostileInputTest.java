package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.granary.nar.NarFormatException;
import org.granary.nar.NarRestoreException;
import org.granary.nar.NarVisitor;
import org.granary.nar.testing.Allocation;
import org.granary.nar.testing.FullTries;
import org.granary.nar.testing.Mutator;
import org.granary.nar.testing.OwnExceptions;
import org.granary.nar.testing.Sandbox;

/**
 * Hostile export streams (issue 7): mutations of generated exports. {@link ExportReader} reads each to its
 * end marker or refuses it with {@link ExportFormatException} or {@link NarFormatException}, allocating
 * nothing in proportion to a length or count; {@link LocalStore#importPaths} into a store inside a sandbox
 * makes each item valid whole or leaves nothing of it (the store dir holds only valid items and locks
 * after every try, each item sound), refuses only with its documented exceptions, and never touches the
 * sandbox's canary. The tries are a plain build's; {@code -Pfull-reliability} runs 100,000 of each.
 */
class ExportHostileInputTest {
    private static final long ALLOCATION_ALLOWANCE = 1 << 20;
    /** A fresh store every so many imports keeps each try's whole-store check small. */
    private static final int IMPORTS_PER_STORE = 100;
    private static final Mutator MUTATOR = new Mutator(HostileSeeds.exportDictionary());

    private static Sandbox sandbox;
    private static LocalStore store;
    private static int imports;
    private static int stores;

    @AfterContainer
    static void close() throws IOException {
        if (store != null) {
            store.close();
            store = null;
        }
        if (sandbox != null) {
            sandbox.close();
            sandbox = null;
        }
    }

    @Provide
    Arbitrary<byte[]> hostileExports() {
        Arbitrary<byte[]> seeds = HostileSeeds.exports();
        return Arbitraries.frequencyOf(Tuple.of(1, seeds), Tuple.of(6, MUTATOR.mutationsOf(seeds)));
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void theReaderReadsToTheEndOrRefusesWithItsOwnExceptions(@ForAll("hostileExports") byte[] export) throws Throwable {
        InputStream in = new ByteArrayInputStream(export);
        Throwable[] thrown = {null};
        long allocated = Allocation.bytesAllocatedBy(() -> {
            ExportReader reader = new ExportReader(in, StoreDir.of(HostileSeeds.STORE, Path.of("/")));
            while (reader.next(new NarVisitor() { }).isPresent()) {
                assertTrue(reader.offset() <= export.length);
            }
        }, t -> thrown[0] = t);
        OwnExceptions.expect(thrown[0], export, ExportFormatException.class, NarFormatException.class);
        assertTrue(allocated < ALLOCATION_ALLOWANCE + 16L * export.length,
            "reading " + export.length + " bytes allocated " + allocated + " bytes");
    }

    @Property(tries = 60, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    @FullTries.Costly
    void anImportMakesWholeItemsValidOrLeavesNothingAndNeverWritesOutside(@ForAll("hostileExports") byte[] export)
            throws Throwable {
        LocalStore store = store();
        Throwable thrown = null;
        List<StorePath> imported = List.of();
        try {
            imported = store.importPaths(new BufferedInputStream(new ByteArrayInputStream(export)));
        } catch (Throwable t) {
            thrown = t;
        }
        OwnExceptions.expect(thrown, export, ExportFormatException.class, NarFormatException.class, NarRestoreException.class,
            MissingReferenceException.class);
        sandbox.assertUntouched();
        imported.forEach(path -> assertTrue(store.isValidPath(path), path + " imported but not valid"));
        StoreConfig config = store.config();
        List<String> notValid = new ArrayList<>();
        for (String entry : CrashHarness.storeEntries(config)) {
            if (!entry.endsWith(".lock") && store.queryPathFromHashPart(entry.substring(0, 32))
                    .map(p -> !p.baseName().equals(entry)).orElse(true)) {
                notValid.add(entry);
            }
        }
        assertEquals(List.of(), notValid, "entries of the store dir that are not valid items after an import"
            + (thrown == null ? "" : " refused with " + thrown));
    }

    /** The store of the current batch of tries: a new one (checked whole before) every so many imports. */
    private static LocalStore store() throws IOException {
        if (sandbox == null) {
            sandbox = Sandbox.create();
        }
        if (store != null && ++imports % IMPORTS_PER_STORE == 0) {
            checkWhole(store);
            store.close();
            store = null;
        }
        if (store == null) {
            store = LocalStore.open(CrashWorkload.config(sandbox.work().resolve("root-" + stores++)));
        }
        return store;
    }

    private static void checkWhole(LocalStore store) throws IOException {
        StoreConfig config = store.config();
        store.close();
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            for (StorePath path : db.validPaths()) {
                for (StorePath reference : db.references(path)) {
                    assertTrue(db.isValid(reference), path + " refers to " + reference + ", which is not valid");
                }
            }
            CrashHarness.checkItems(config, db, "after " + IMPORTS_PER_STORE + " hostile imports");
        }
    }
}
