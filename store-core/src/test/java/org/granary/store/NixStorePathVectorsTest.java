package org.granary.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential test against real Nix: every line of nix-store-paths.tsv, written by
 * scripts/store-path-vectors.sh with nix-bin 2.8, gives an input, the hash Nix computed of it and the
 * store path Nix gave it. The input is rebuilt here from its recipe, hashed by Granary (flat or as a
 * NAR), and the path computed by {@link StorePaths}.
 */
class NixStorePathVectorsTest {
    private static final StorePaths PATHS = new StorePaths(StoreDir.DEFAULT);

    @TempDir
    Path tmp;

    /** One line of the file; the columns are described in the script's header. */
    record Vector(String kind, String name, HashAlgorithm algorithm, boolean recursive, String input,
                  List<StorePath> references, Hash hash, String path) {
        static Vector parse(String line) {
            String[] f = line.split("\t", -1);
            if (f.length != 8 || !f[3].matches("true|false")) {
                throw new IllegalArgumentException("malformed vector line: " + line);
            }
            List<StorePath> references = new ArrayList<>();
            if (!f[5].equals("-")) {
                for (String reference : f[5].split(" ")) {
                    references.add(StorePath.parse(reference, StoreDir.DEFAULT));
                }
            }
            return new Vector(f[0], f[1], HashAlgorithm.parse(f[2]), Boolean.parseBoolean(f[3]), f[4],
                references, Hash.parse(f[6]), f[7]);
        }

        @Override
        public String toString() {
            return kind + " " + name + " " + algorithm + (recursive ? " recursive" : " flat")
                + (references.isEmpty() ? "" : " " + references.size() + " refs");
        }
    }

    static List<Vector> vectors() throws IOException {
        List<Vector> vectors = new ArrayList<>();
        try (InputStream in = NixStorePathVectorsTest.class.getResourceAsStream("nix-store-paths.tsv");
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isEmpty() && !line.startsWith("#")) {
                    vectors.add(Vector.parse(line));
                }
            }
        }
        return vectors;
    }

    @TestFactory
    Stream<DynamicTest> everyVectorGivesNixsHashAndPath() throws IOException {
        List<Vector> vectors = vectors();
        return vectors.stream().map(v -> DynamicTest.dynamicTest(vectors.indexOf(v) + 1 + ": " + v, () -> {
            Path input = tmp.resolve("input-" + vectors.indexOf(v));
            InputRecipe.materialise(v.input(), input);
            Hash hash = v.recursive() ? Hash.ofNar(input, v.algorithm()) : Hash.ofFile(input, v.algorithm());
            assertEquals(v.hash(), hash, "hash of the input");
            assertEquals(v.path(), path(v, hash).toString());
        }));
    }

    private static StorePath path(Vector v, Hash hash) {
        if (v.kind().startsWith("output:")) {
            return PATHS.derivationOutput(v.name(), v.kind().substring("output:".length()), hash);
        }
        return switch (v.kind()) {
            case "source" -> PATHS.source(v.name(), hash, v.references(), false);
            case "fixed" -> PATHS.fixedOutput(v.name(), v.recursive(), hash);
            case "text" -> PATHS.text(v.name(), hash, v.references());
            default -> throw new IllegalArgumentException("unknown kind " + v.kind());
        };
    }

    /** Guards against a truncated or narrowed regeneration of the file. */
    @Test
    void theVectorsCoverEveryKindAlgorithmAndReferenceCount() throws IOException {
        Set<String> seen = new HashSet<>();
        for (Vector v : vectors()) {
            String kind = v.kind().startsWith("output:") && !v.kind().equals("output:out") ? "output:other" : v.kind();
            seen.add(kind + " " + v.algorithm() + " " + v.recursive());
            seen.add(kind + " refs " + v.references().size());
            if (!v.name().matches("[A-Za-z0-9+\\-._?=]+") || v.name().startsWith(".")) {
                throw new AssertionError("vector with a name Guix rejects: " + v);
            }
        }
        for (String algorithm : List.of("md5", "sha1", "sha256", "sha512")) {
            assertTrue(seen.contains("fixed " + algorithm + " false"), algorithm + " flat");
            assertTrue(seen.contains("fixed " + algorithm + " true"), algorithm + " recursive");
        }
        for (String expected : Arrays.asList("source sha256 true", "text refs 0", "text refs 1", "text refs 2",
                "output:out refs 0", "output:other refs 0")) {
            assertTrue(seen.contains(expected), expected);
        }
    }
}
