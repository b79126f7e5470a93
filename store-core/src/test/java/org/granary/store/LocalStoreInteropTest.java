package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.granary.nar.testing.NixOracle;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LocalStore} against real Nix (skipped, saying so, when {@code nix-store} is missing): the paths
 * of {@code nix-store --add}, {@code --add-fixed} and {@code builtins.toFile}, Nix's export imported,
 * and Granary's export accepted by {@code nix-store --import} and {@code --verify --check-contents}.
 */
class LocalStoreInteropTest {
    private static final StoreDir STORE = StoreDir.of(NixOracle.STORE_DIR, Path.of("/"));

    @TempDir
    Path tmp;

    @Test
    void addingGivesNixsPathsAndHashes() throws IOException {
        NixOracle.assumeAvailable();
        NixOracle nix = NixOracle.open(tmp.resolve("nix"));
        List<TestTrees.Tree> trees = TestTrees.standard(Files.createDirectory(tmp.resolve("trees")));
        try (LocalStore store = LocalStore.open(StoreConfig.under(tmp.resolve("root")).withReservedSpace(0))) {
            for (TestTrees.Tree tree : trees) {
                StorePath ours = store.addToStore(tree.path().getFileName().toString(), tree.path(), true,
                    HashAlgorithm.SHA256, List.of());
                String theirs = nix.addSource(tree.path());
                assertEquals(theirs, ours.toString(), "nix-store --add " + tree);
                assertEquals(Hash.parse(nix.nixStore("--query", "--hash", theirs).strip()),
                    store.queryPathInfo(ours).orElseThrow().narHash(),
                    "NAR hash of " + tree);
            }
            Path file = TestTrees.topLevelFile(tmp.resolve("file"));
            for (String algo : List.of("md5", "sha1", "sha256", "sha512")) {
                HashAlgorithm algorithm = HashAlgorithm.parse(algo);
                assertEquals(nix.addFixed(algo, false, file),
                    store.addToStore("file", file, false, algorithm, List.of()).toString(), "flat " + algo);
                assertEquals(nix.addFixed(algo, true, file),
                    store.addToStore("file", file, true, algorithm, List.of()).toString(), "recursive " + algo);
            }
            String greeting = nix.toFile("greeting", "hello\n");
            StorePath ourGreeting = store.addTextToStore("greeting", "hello\n", List.of());
            assertEquals(greeting, ourGreeting.toString());
            String refs = nix.toFile("refs", "see " + greeting + "\n", greeting);
            assertEquals(refs, store.addTextToStore("refs", "see " + greeting + "\n", List.of(ourGreeting)).toString());
        }
    }

    @Test
    void nixsExportImportsAndOursPassesNixsImportAndVerify() throws IOException {
        NixOracle.assumeAvailable();
        NixOracle nix = NixOracle.open(tmp.resolve("nix"));
        List<TestTrees.Tree> trees = TestTrees.standard(Files.createDirectory(tmp.resolve("trees")));
        String source = nix.addSource(trees.get(0).path());
        String greeting = nix.toFile("greeting", "hello\n");
        String top = nix.toFile("top", "uses " + greeting + " and " + source + "\n", greeting, source);
        List<String> closure = lines(nix.nixStore("--query", "--requisites", top));
        List<String> arguments = new ArrayList<>(List.of("--export"));
        arguments.addAll(closure);
        byte[] export;
        try (InputStream in = nix.openNixStore(arguments.toArray(String[]::new))) {
            export = in.readAllBytes();
        }

        try (LocalStore store = LocalStore.open(StoreConfig.under(tmp.resolve("root")).withReservedSpace(0))) {
            List<StorePath> imported = store.importPaths(new BufferedInputStream(new ByteArrayInputStream(export)));
            assertEquals(closure, imported.stream().map(StorePath::toString).toList());
            for (StorePath path : imported) {
                PathInfo info = store.queryPathInfo(path).orElseThrow();
                assertEquals(Hash.parse(nix.nixStore("--query", "--hash", path.toString()).strip()), info.narHash());
                assertEquals(references(nix, path), info.references(), "references of " + path);
            }

            Path ours = tmp.resolve("granary.export");
            try (OutputStream out = Files.newOutputStream(ours)) {
                store.exportPaths(imported, out);
            }
            NixOracle fresh = NixOracle.open(tmp.resolve("fresh"));
            assertEquals(closure, lines(fresh.nixStoreWithInput(ours, "--import")));
            fresh.nixStore("--verify", "--check-contents");
            for (StorePath path : imported) {
                assertEquals(references(nix, path), references(fresh, path));
            }
        }
    }

    private static List<String> lines(String output) {
        return Arrays.stream(output.split("\n")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static Set<StorePath> references(NixOracle store, StorePath path) throws IOException {
        Set<StorePath> references = new HashSet<>();
        for (String line : lines(store.nixStore("--query", "--references", path.toString()))) {
            references.add(StorePath.parse(line, STORE));
        }
        return references;
    }
}
