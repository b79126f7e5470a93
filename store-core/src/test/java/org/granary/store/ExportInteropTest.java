package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.granary.nar.NarDumper;
import org.granary.nar.NarVisitor;
import org.granary.nar.testing.NixOracle;
import org.granary.nar.testing.StreamDigest;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exports against real Nix (nix-bin 2.8, whose export format the Guix daemon shares): a Guix-shaped store
 * of sources, text files referring to each other and an item with a deriver, exported by
 * {@code nix-store --export}, read by {@link ExportReader}, rewritten by {@link ExportWriter} and imported
 * into a second Nix store.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExportInteropTest {
    private static final StoreDir STORE = StoreDir.of(NixOracle.STORE_DIR, Path.of("/"));
    private static final NarVisitor IGNORE = new NarVisitor() {};

    private Path tmp;
    private NixOracle nix;
    /** Every path of the closure, in the order of Nix's export. */
    private final List<StorePath> closure = new ArrayList<>();
    private byte[] nixExport;
    private StorePath withDeriver;
    private StorePath refs;

    @BeforeAll
    void buildStoreAndExport(@TempDir Path dir) throws IOException {
        NixOracle.assumeAvailable();
        tmp = dir;
        nix = NixOracle.open(tmp.resolve("nix"));
        List<TestTrees.Tree> trees = TestTrees.standard(Files.createDirectory(tmp.resolve("trees")));
        String sourceA = nix.addSource(trees.get(0).path());
        String sourceB = nix.addSource(trees.get(trees.size() - 1).path());
        String greeting = nix.toFile("greeting", "hello\n");
        String refsText = nix.toFile("refs", "see " + greeting + " and " + sourceA + "\n", greeting, sourceA);
        String top = nix.toFile("top", "uses " + refsText + " with " + sourceB + "\n", refsText, sourceB);
        refs = StorePath.parse(refsText, STORE);
        withDeriver = registerWithDeriver(greeting);
        List<String> paths = new ArrayList<>(lines(nix.nixStore("--query", "--requisites", top)));
        paths.add(withDeriver.toString());
        List<String> arguments = new ArrayList<>(List.of("--export"));
        arguments.addAll(paths);
        try (InputStream in = nix.openNixStore(arguments.toArray(String[]::new))) {
            nixExport = in.readAllBytes();
        }
        ExportReader reader = new ExportReader(new ByteArrayInputStream(nixExport), STORE);
        for (Optional<ExportedItem> item; (item = reader.next(IGNORE)).isPresent(); ) {
            closure.add(item.get().path());
        }
        assertEquals(new HashSet<>(paths), new HashSet<>(closure.stream().map(StorePath::toString).toList()));
    }

    /**
     * An item registered with {@code nix-store --load-db}, the only way to give one a deriver without a
     * build ({@code --register-validity} of nix 2.8 looks for the file at its logical path, outside the
     * oracle's root).
     */
    private StorePath registerWithDeriver(String reference) throws IOException {
        StorePath path = StorePath.parse(NixOracle.STORE_DIR + "/" + "1".repeat(32) + "-with-deriver", STORE);
        Path file = nix.physicalPath(path.toString());
        Files.writeString(file, "built from a derivation, see " + reference + "\n");
        StreamDigest nar = nix.dumpDigest(file);
        Path dump = Files.writeString(tmp.resolve("db-dump"), path + "\n" + nar.sha256() + "\n" + nar.size() + "\n"
                + NixOracle.STORE_DIR + "/" + "2".repeat(32) + "-with-deriver.drv\n1\n" + reference + "\n");
        nix.nixStoreWithInput(dump, "--load-db");
        return path;
    }

    private static List<String> lines(String output) {
        return Arrays.stream(output.split("\n")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private Set<StorePath> references(NixOracle store, StorePath path) throws IOException {
        Set<StorePath> references = new HashSet<>();
        for (String line : lines(store.nixStore("--query", "--references", path.toString()))) {
            references.add(StorePath.parse(line, STORE));
        }
        return references;
    }

    private Optional<StorePath> deriver(StorePath path) throws IOException {
        String deriver = nix.nixStore("--query", "--deriver", path.toString()).strip();
        return deriver.equals("unknown-deriver") ? Optional.empty() : Optional.of(StorePath.parse(deriver, STORE));
    }

    @Test
    void readsNixsExportWithNixsPathsReferencesDeriversHashesAndSizes() throws IOException {
        ExportReader reader = new ExportReader(new BufferedInputStream(new ByteArrayInputStream(nixExport)), STORE);
        Map<StorePath, ExportedItem> items = new LinkedHashMap<>();
        for (Optional<ExportedItem> item; (item = reader.next(IGNORE)).isPresent(); ) {
            items.put(item.get().path(), item.get());
        }
        assertEquals(nixExport.length, reader.offset());
        for (ExportedItem item : items.values()) {
            StorePath path = item.path();
            assertEquals(references(nix, path), item.references(), "references of " + path);
            assertEquals(deriver(path), item.deriver(), "deriver of " + path);
            assertEquals(Hash.parse(nix.nixStore("--query", "--hash", path.toString()).strip()), item.narHash(), "hash of " + path);
            assertEquals(Long.parseLong(nix.nixStore("--query", "--size", path.toString()).strip()), item.narSize(),
                    "size of " + path);
            assertEquals(Optional.empty(), item.signature());
        }
        assertEquals(Optional.of(StorePath.parse(NixOracle.STORE_DIR + "/" + "2".repeat(32) + "-with-deriver.drv", STORE)),
                items.get(withDeriver).deriver());
    }

    @Test
    void writesTheSameBytesAsNixAndNixImportsThemIntoAFreshStore() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExportWriter writer = new ExportWriter(out);
        for (StorePath path : closure) {
            writer.write(path, nix.physicalPath(path.toString()), references(nix, path), deriver(path));
        }
        writer.finish();
        assertArrayEquals(nixExport, out.toByteArray(), "the export of the same paths in the same order");

        Path file = Files.write(tmp.resolve("granary.export"), out.toByteArray());
        NixOracle fresh = NixOracle.open(tmp.resolve("fresh"));
        List<String> imported = lines(fresh.nixStoreWithInput(file, "--import"));
        assertEquals(closure.stream().map(StorePath::toString).toList(), imported);
        fresh.nixStore("--verify", "--check-contents");
        for (StorePath path : closure) {
            assertEquals(nix.nixStore("--query", "--hash", path.toString()), fresh.nixStore("--query", "--hash", path.toString()));
            assertEquals(references(nix, path), references(fresh, path), "references of " + path + " after import");
        }
    }

    @Test
    void theScannerFindsTheReferencesNixRecorded() throws IOException {
        List<StorePath> candidates = new ArrayList<>(closure);
        for (StorePath path : closure) {
            ReferenceScanner scanner = new ReferenceScanner(candidates);
            new NarDumper().dump(nix.physicalPath(path.toString()), scanner);
            assertEquals(references(nix, path), scanner.found(), "references of " + path);
        }
        assertEquals(2, references(nix, refs).size());
    }
}
